package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// runHealthcheck asks a running host whether it is ready: GET /readyz on
// its address, exit 0 on 200 and 1 otherwise. It backs the image's
// HEALTHCHECK, since an image FROM scratch has no curl.
func runHealthcheck(e env, args []string) int {
	fs := newFlags(e, "healthcheck", "healthcheck [-address HOST:PORT] [-timeout D]")
	address := fs.String("address", defaultHealthAddress(os.Getenv("ALPHASWARM_LISTEN")), "the host's listen address; 0.0.0.0 and [::] are asked on loopback (default from $ALPHASWARM_LISTEN)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long the answer may take")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	url := "http://" + *address + "/readyz"
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return e.errorf("check health: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return e.errorf("check health: %s did not answer: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	msg := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return e.errorf("check health: %s answered %s: %s", url, resp.Status, msg)
	}
	fmt.Fprintf(e.stdout, "ready: %s answered %s\n", url, resp.Status)
	return exitOK
}

// defaultHealthAddress is where the host listening on listen answers from
// inside its own container or machine.
func defaultHealthAddress(listen string) string {
	if listen == "" {
		return "127.0.0.1:7373"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
