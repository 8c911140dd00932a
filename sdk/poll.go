package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrPollTimeout is what Poll returns, wrapped, when PollOptions.Timeout
// passes before the condition is done.
var ErrPollTimeout = errors.New("poll: timed out")

// PollOptions tune Poll. The zero value polls after 250ms, then backs off by
// a factor of 2 up to 10s between polls, each wait varied by up to ±20%, for
// as long as the context lasts.
type PollOptions struct {
	// Interval is the first wait (250ms when zero).
	Interval time.Duration
	// MaxInterval caps the wait (10s when zero; at least Interval).
	MaxInterval time.Duration
	// Multiplier grows the wait after each poll (2 when zero; at least 1,
	// which keeps it constant).
	Multiplier float64
	// Jitter varies each wait by up to this fraction of it, either way, so
	// that many pollers do not hit an API in step (0.2 when zero; below
	// zero, none; at most 1).
	Jitter float64
	// Timeout, when set, ends polling with ErrPollTimeout after this long.
	// The context's own deadline or cancellation ends it with the
	// context's error.
	Timeout time.Duration
}

func (o PollOptions) withDefaults() PollOptions {
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 10 * time.Second
	}
	o.MaxInterval = max(o.MaxInterval, o.Interval)
	if o.Multiplier == 0 {
		o.Multiplier = 2
	}
	o.Multiplier = max(o.Multiplier, 1)
	switch {
	case o.Jitter == 0:
		o.Jitter = 0.2
	case o.Jitter < 0:
		o.Jitter = 0
	}
	o.Jitter = min(o.Jitter, 1)
	return o
}

// wait returns the n-th wait (from 0), with jitter drawn from r in [0, 1).
func (o PollOptions) wait(n int, r float64) time.Duration {
	d := float64(o.Interval)
	for range n {
		if d *= o.Multiplier; d >= float64(o.MaxInterval) {
			d = float64(o.MaxInterval)
			break
		}
	}
	return time.Duration(d * (1 + o.Jitter*(2*r-1)))
}

// Poll calls check until it reports done, backing off between calls as
// opts says: for operations a backend starts and finishes later (a cloud
// API's long-running operation, a rollout). check runs at once, then after
// each wait, with a context that ends at the Timeout. An error from check
// ends polling and is returned as it is; return (false, nil) for trouble
// worth another try. When Timeout passes, Poll returns an error wrapping
// ErrPollTimeout (also when check fails only because its context ended);
// when ctx ends, ctx's error.
func Poll(ctx context.Context, opts PollOptions, check func(context.Context) (done bool, err error)) error {
	opts = opts.withDefaults()
	pollCtx, cancel := ctx, context.CancelFunc(func() {})
	if opts.Timeout > 0 {
		pollCtx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, ErrPollTimeout)
	}
	defer cancel()
	ended := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w after %s", ErrPollTimeout, opts.Timeout)
	}
	for n := 0; ; n++ {
		done, err := check(pollCtx)
		switch {
		case pollCtx.Err() != nil && (err != nil || !done):
			return ended()
		case err != nil:
			return err
		case done:
			return nil
		}
		timer := time.NewTimer(opts.wait(n, rand.Float64()))
		select {
		case <-pollCtx.Done():
			timer.Stop()
			return ended()
		case <-timer.C:
		}
	}
}
