package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/alphaswarm/controller/sdk"
)

// Exec runs a command in a ready pod of the service (or the named replica)
// through pods/exec: over WebSocket, falling back to SPDY on API servers
// that do not upgrade to it, with stdin, a TTY and resizes as asked, and
// the command's exit code.
func (b *Backend) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	_, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	pod, err := b.execPod(ctx, t, names[0], req.Replica)
	if err != nil {
		return nil, err
	}
	opts := &corev1.PodExecOptions{Container: names[0], Command: req.Command, Stdin: req.Stdin && streams.Stdin != nil,
		Stdout: true, Stderr: !req.TTY, TTY: req.TTY}
	u := b.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(t.namespace).Name(pod).
		SubResource("exec").VersionedParams(opts, scheme.ParameterCodec).URL()
	ws, err := remotecommand.NewWebSocketExecutor(b.rest, "GET", u.String())
	if err != nil {
		return nil, fmt.Errorf("exec in pod %s: %w", pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(b.rest, "POST", u)
	if err != nil {
		return nil, fmt.Errorf("exec in pod %s: %w", pod, err)
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("exec in pod %s: %w", pod, err)
	}
	so := remotecommand.StreamOptions{Stdout: streams.Stdout, Tty: req.TTY}
	if opts.Stdin {
		so.Stdin = streams.Stdin
	}
	if !req.TTY {
		so.Stderr = streams.Stderr
	}
	if req.TTY {
		so.TerminalSizeQueue = &sizeQueue{ctx: ctx, first: req.Size, resize: streams.Resize}
	}
	err = executor.StreamWithContext(ctx, so)
	if err == nil {
		return &sdk.ExecResponse{ExitCode: 0}, nil
	}
	if code, ok := exitCode(err); ok {
		return &sdk.ExecResponse{ExitCode: code}, nil
	}
	return nil, b.apiError("exec in pod "+pod, err)
}

// kwokExit matches the end of the error kwok's simulated kubelet returns
// for a command that exited non-zero; a kubelet sends NonZeroExitCode,
// which remotecommand turns into a CodeExitError.
var kwokExit = regexp.MustCompile(`cmd wait: .*: exit status (\d+)$`)

func exitCode(err error) (int, bool) {
	var exit utilexec.CodeExitError
	if errors.As(err, &exit) {
		return exit.Code, true
	}
	if m := kwokExit.FindStringSubmatch(strings.TrimSpace(err.Error())); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code, true
	}
	return 0, false
}

// execPod picks the named replica, or the first ready pod of the service.
func (b *Backend) execPod(ctx context.Context, t target, service, replica string) (string, error) {
	pods, err := b.client.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector(service)})
	if err != nil {
		return "", b.apiError("list the pods of service "+service, err)
	}
	for _, p := range podsOf(pods, service) {
		if (replica == "" && replicaStatus(p).Health == "ready") || (replica != "" && p.Name == replica && p.Status.Phase == corev1.PodRunning) {
			return p.Name, nil
		}
	}
	return "", sdk.NotFound("running replica %q of service %q", replica, service)
}

// sizeQueue feeds terminal sizes to remotecommand: the first, then each
// resize, until the context ends.
type sizeQueue struct {
	ctx    context.Context
	first  sdk.TermSize
	sent   bool
	resize <-chan sdk.TermSize
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if !q.sent && q.first.Rows > 0 {
		q.sent = true
		return &remotecommand.TerminalSize{Height: q.first.Rows, Width: q.first.Cols}
	}
	select {
	case <-q.ctx.Done():
		return nil
	case s, ok := <-q.resize:
		if !ok {
			return nil
		}
		return &remotecommand.TerminalSize{Height: s.Rows, Width: s.Cols}
	}
}
