// Command fakegcp serves the fake Google Cloud of package fakegcp on a
// loopback port, for tests that run the GCP backend in processes they do
// not start themselves (the host's end-to-end tests). It prints
// "listening on ADDR" (the backend's endpoint), then "inspect on URL", and
// serves until its standard input closes or it is signalled.
//
// URL is a read-only HTTP view of the fake's state on loopback, for tests
// that check what a run left behind: GET URL/state answers
// {"services": [...], "secrets": [...]}, each item the object's full name,
// its labels and (secrets) its versions' states; no secret payload.
//
// -missing-image IMAGE, repeatable, makes every revision of IMAGE fail as
// Cloud Run does when it cannot pull it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp"
)

type images []string

func (i *images) String() string     { return strings.Join(*i, ",") }
func (i *images) Set(v string) error { *i = append(*i, v); return nil }

// object is one service or secret as the inspection answers it.
type object struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Versions []string          `json:"versions,omitempty"`
}

func main() {
	var missing images
	flag.Var(&missing, "missing-image", "an image whose revisions fail (repeatable)")
	flag.Parse()
	s, err := fakegcp.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakegcp:", err)
		os.Exit(1)
	}
	for _, image := range missing {
		s.MissingImage(image)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakegcp: listen for the inspection:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		out := map[string][]object{"services": {}, "secrets": {}}
		services := s.Services()
		for _, name := range slices.Sorted(maps.Keys(services)) {
			out["services"] = append(out["services"], object{Name: name, Labels: services[name].Labels})
		}
		secrets := s.Secrets()
		for _, name := range slices.Sorted(maps.Keys(secrets)) {
			o := object{Name: name, Labels: secrets[name].Labels}
			for _, st := range secrets[name].States {
				o.Versions = append(o.Versions, st.String())
			}
			out["secrets"] = append(out["secrets"], o)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	go http.Serve(lis, mux)
	fmt.Printf("listening on %s\n", s.Addr())
	fmt.Printf("inspect on http://%s\n", lis.Addr())
	done := make(chan struct{}, 2)
	go func() { io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		done <- struct{}{}
	}()
	<-done
	lis.Close()
	s.Stop()
}
