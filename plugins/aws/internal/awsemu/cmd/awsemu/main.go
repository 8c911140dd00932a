// Command awsemu serves the AWS backend's emulator (package awsemu) on a
// loopback port, for tests that run the plugin in processes they do not
// start themselves (the host's end-to-end tests). It accepts the
// emulator's access key (awsemu.AccessKeyID, awsemu.SecretAccessKey),
// has the clusters named by -cluster and the web identity roles of
// -web-identity-role, prints "listening on ADDR" and
// serves until its standard input closes or it is signalled. A GET of
// /_emulator/state answers its state as JSON, read-only.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
)

func main() {
	region := flag.String("region", "us-east-1", "the region it answers for")
	clusters := flag.String("cluster", "apps", "comma-separated ECS clusters that exist from the start (Container Insights enhanced)")
	var webRoles []string
	flag.Func("web-identity-role", "ROLE_ARN=TOKEN: a role the web identity token assumes (AssumeRoleWithWebIdentity); repeatable", func(v string) error {
		if _, _, ok := strings.Cut(v, "="); !ok {
			return fmt.Errorf("want ROLE_ARN=TOKEN")
		}
		webRoles = append(webRoles, v)
		return nil
	})
	step := flag.Duration("step", 150*time.Millisecond, "how long a task stays in each state")
	flag.Parse()
	s, err := awsemu.Start(awsemu.Options{Region: *region, Step: *step})
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsemu:", err)
		os.Exit(1)
	}
	for _, c := range strings.Split(*clusters, ",") {
		if c = strings.TrimSpace(c); c != "" {
			s.CreateCluster(c, "enhanced")
		}
	}
	for _, v := range webRoles {
		role, token, _ := strings.Cut(v, "=")
		s.AddWebIdentityRole(role, token)
	}
	fmt.Printf("listening on %s\n", strings.TrimPrefix(s.URL, "http://"))
	done := make(chan struct{}, 2)
	go func() { io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		done <- struct{}{}
	}()
	<-done
	s.Close()
}
