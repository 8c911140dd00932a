// Command echo is the test workload of alphaswarm-controller: a tiny static
// HTTP server, small enough to run from an image built FROM scratch.
//
// Serving (no arguments, or "serve"):
//
//	GET  /          JSON with the request, the hostname and the environment
//	GET  /healthz   200 "ok", or 503 once switched off
//	POST /healthz?ok=false|true   switch the health answer
//	POST /exit?code=N             exit with code N
//
// It listens on $PORT (default 8080), logs one line per request on stdout,
// and a "tick N" line every $LOG_INTERVAL (default 1s), every fifth on
// stderr. With UNHEALTHY_AT_START=1 its health answer starts off.
//
// Subcommands, for exec and command health checks in an image with no shell:
//
//	echo cat            copy stdin to stdout
//	echo exit N         exit with code N
//	echo print ARGS...  print the arguments
//	echo check [PATH]   GET http://127.0.0.1:$PORT/PATH (default /healthz); exit 0 on 2xx
//	echo poll URL [INTERVAL]
//	                    GET URL every INTERVAL (default 20ms) on a fresh connection,
//	                    trying each address of the host for a second in turn,
//	                    until SIGTERM, print each failure and a summary line
//	                    "requests=N failures=M", and exit 1 if any failed
//	echo winsize [ROWSxCOLS]
//	                    print "ROWS COLS" of the terminal on stdin now and each
//	                    time it changes (SIGWINCH); without an argument exit
//	                    after the first line, with one once the terminal has
//	                    that size (exit 0) or after 10s (exit 1)
//
// On SIGTERM the server stops accepting connections and finishes the
// requests it has before it exits, so a replica can leave without failing a
// request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		serve()
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "exit":
		code := 0
		if len(args) > 1 {
			code, _ = strconv.Atoi(args[1])
		}
		os.Exit(code)
	case "print":
		fmt.Println(strings.Join(args[1:], " "))
	case "check":
		os.Exit(check(args[1:]))
	case "poll":
		os.Exit(poll(args[1:]))
	case "winsize":
		os.Exit(winsize(args[1:]))
	default:
		fmt.Fprintf(os.Stderr, "echo: unknown command %q (serve, cat, exit, print, check, poll, winsize)\n", args[0])
		os.Exit(127)
	}
}

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

func check(args []string) int {
	path := "/healthz"
	if len(args) > 0 {
		path = args[0]
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port() + path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, "check:", resp.Status)
		return 1
	}
	return 0
}

func serve() {
	var healthy atomic.Bool
	healthy.Store(os.Getenv("UNHEALTHY_AT_START") != "1")
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"hostname": host, "method": r.Method, "path": r.URL.Path, "headers": r.Header, "env": os.Environ(),
		})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "switched off", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /healthz", func(w http.ResponseWriter, r *http.Request) {
		healthy.Store(r.URL.Query().Get("ok") != "false")
		fmt.Fprintln(w, "health is now", healthy.Load())
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		fmt.Fprintln(w, "exiting with", code)
		w.(http.Flusher).Flush()
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(code) }()
	})
	go tick()
	addr := ":" + port()
	fmt.Printf("echo %s listening on %s\n", host, addr)
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s %s from %s\n", r.Method, r.URL.RequestURI(), r.RemoteAddr)
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: addr, Handler: logged, ReadHeaderTimeout: 5 * time.Second}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		fmt.Println("echo: shutting down")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	<-drained // ListenAndServe returns at once on Shutdown; the requests it accepted finish here
}

// failover dials each address the name resolves to in turn, giving each
// three seconds, as a client of a service whose replicas come and go
// should: an address that has just left, or a replica that is joining, can
// swallow a connection attempt. (One second was too little for a live
// replica to answer on a machine busy with CI's parallel test packages.)
func failover(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var last error
	for _, ip := range ips {
		conn, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, net.JoinHostPort(ip, port))
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}

func poll(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: echo poll URL [INTERVAL]")
		return 2
	}
	interval := 20 * time.Millisecond
	if len(args) > 1 {
		if d, err := time.ParseDuration(args[1]); err == nil {
			interval = d
		}
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: failover}}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	requests, failures := 0, 0
	for {
		select {
		case <-stop:
			fmt.Printf("requests=%d failures=%d\n", requests, failures)
			if failures > 0 {
				return 1
			}
			return 0
		case <-time.After(interval):
		}
		requests++
		var remote string
		var steps []string
		mark := func(what string) { steps = append(steps, fmt.Sprintf("%s@%s", what, time.Now().Format("05.000"))) }
		trace := &httptrace.ClientTrace{
			DNSStart:     func(httptrace.DNSStartInfo) { mark("dns") },
			DNSDone:      func(i httptrace.DNSDoneInfo) { mark(fmt.Sprintf("dns-done%v", i.Addrs)) },
			ConnectStart: func(_, addr string) { mark("connect " + addr) },
			ConnectDone:  func(_, addr string, err error) { mark(fmt.Sprintf("connected %s %v", addr, err)) },
			GotConn:      func(info httptrace.GotConnInfo) { remote = info.Conn.RemoteAddr().String() },
		}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, args[0], nil)
		started := time.Now()
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		if err != nil {
			failures++
			fmt.Printf("FAIL %s after %s from %q: %v %v\n", started.Format(time.RFC3339Nano), time.Since(started).Round(time.Millisecond), remote, err, steps)
		}
	}
}

// winsize prints the size of the terminal on stdin, and again on every
// SIGWINCH, until it equals the wanted size (if any).
func winsize(args []string) int {
	var wantRows, wantCols int
	if len(args) > 0 {
		if _, err := fmt.Sscanf(args[0], "%dx%d", &wantRows, &wantCols); err != nil {
			fmt.Fprintf(os.Stderr, "echo winsize: %q is not ROWSxCOLS\n", args[0])
			return 2
		}
	}
	changed := make(chan os.Signal, 1)
	signal.Notify(changed, syscall.SIGWINCH) // before the first line, so no change after it is missed
	deadline := time.After(10 * time.Second)
	for {
		rows, cols, err := termSize(0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo winsize:", err)
			return 1
		}
		fmt.Printf("%d %d\n", rows, cols)
		if wantRows == 0 || (rows == wantRows && cols == wantCols) {
			return 0
		}
		select {
		case <-changed:
		case <-deadline:
			fmt.Fprintf(os.Stderr, "echo winsize: the terminal did not become %dx%d within 10s\n", wantRows, wantCols)
			return 1
		}
	}
}

// termSize reads a terminal's size with the TIOCGWINSZ ioctl.
func termSize(fd uintptr) (rows, cols int, err error) {
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws))); errno != 0 {
		return 0, 0, fmt.Errorf("read the terminal size: %w", errno)
	}
	return int(ws.Row), int(ws.Col), nil
}

func tick() {
	interval := time.Second
	if d, err := time.ParseDuration(os.Getenv("LOG_INTERVAL")); err == nil && d > 0 {
		interval = d
	}
	for n := 1; ; n++ {
		time.Sleep(interval)
		if n%5 == 0 {
			fmt.Fprintf(os.Stderr, "tick %d (stderr)\n", n)
		} else {
			fmt.Printf("tick %d\n", n)
		}
	}
}
