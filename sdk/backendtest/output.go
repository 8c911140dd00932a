package backendtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// output keeps what a plugin wrote to stderr, or what in-process backends
// logged.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.buf.Bytes())
}

var (
	outputsMu sync.Mutex
	outputs   = map[*pluginhost.Client]*output{}

	// inProcessLog receives hclog.Default() once InProcess has run.
	inProcessLog  = &output{}
	captureLogger sync.Once
)

func register(c *pluginhost.Client, o *output) {
	outputsMu.Lock()
	defer outputsMu.Unlock()
	outputs[c] = o
}

func unregister(c *pluginhost.Client) {
	outputsMu.Lock()
	defer outputsMu.Unlock()
	delete(outputs, c)
}

// captureDefaultLogger points hclog.Default(), which in-process backends and
// the SDK's server log through, at inProcessLog.
func captureDefaultLogger() {
	captureLogger.Do(func() {
		hclog.SetDefault(hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: inProcessLog, JSONFormat: true}))
	})
}

// outputOf returns what the backend behind c has written so far: its stderr
// when launched by Launch, what in-process backends logged when served by
// InProcess. ok is false when the kit cannot see it.
func outputOf(c *pluginhost.Client) (out []byte, ok bool) {
	outputsMu.Lock()
	o := outputs[c]
	outputsMu.Unlock()
	if o == nil {
		return nil, false
	}
	return o.Bytes(), true
}

// applyEnded is the SDK server's debug line when a backend's Apply returns.
type applyEnded struct {
	Message     string `json:"@message"`
	Deployment  string `json:"deployment"`
	ContextDone bool   `json:"context_done"`
	Cancelled   bool   `json:"cancelled"`
	Failed      bool   `json:"failed"`
	Elapsed     string `json:"elapsed"`
	AfterCancel string `json:"after_cancel"`
}

// ranAfterCancel is how long the backend's Apply went on after its context
// ended, as the SDK's server measured it.
func (e *applyEnded) ranAfterCancel() time.Duration {
	d, _ := time.ParseDuration(e.AfterCancel)
	return d
}

// findApplyEnded looks for the "apply ended" line of deployment in out.
func findApplyEnded(out []byte, deployment string) *applyEnded {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"apply ended"`)) {
			continue
		}
		var e applyEnded
		if json.Unmarshal(line, &e) == nil && e.Message == "apply ended" && e.Deployment == deployment {
			return &e
		}
	}
	return nil
}
