package sdk

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPollWaitsBackOff(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		opts PollOptions
		r    float64 // the random draw, in [0, 1)
		want []time.Duration
	}{
		{"defaults, no jitter drawn", PollOptions{}, 0.5, []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"defaults, the most jitter below", PollOptions{}, 0, []time.Duration{200 * ms, 400 * ms, 800 * ms}},
		{"a constant interval", PollOptions{Interval: 100 * ms, Multiplier: 1, Jitter: -1}, 0, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{"a small cap", PollOptions{Interval: 100 * ms, MaxInterval: 150 * ms, Multiplier: 1.5, Jitter: -1}, 0.9, []time.Duration{100 * ms, 150 * ms, 150 * ms}},
		{"a cap below the interval", PollOptions{Interval: 100 * ms, MaxInterval: 10 * ms, Jitter: -1}, 0, []time.Duration{100 * ms, 100 * ms}},
		{"a multiplier below 1", PollOptions{Interval: 100 * ms, Multiplier: 0.5, Jitter: -1}, 0, []time.Duration{100 * ms, 100 * ms}},
		{"full jitter", PollOptions{Interval: 100 * ms, Multiplier: 1, Jitter: 5}, 0.75, []time.Duration{150 * ms, 150 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.opts.withDefaults()
			var got []time.Duration
			for n := range tc.want {
				got = append(got, o.wait(n, tc.r).Round(ms))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	fast := PollOptions{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond}
	broken := errors.New("rollout failed: image pull back-off")
	for _, tc := range []struct {
		name    string
		opts    PollOptions
		ctx     func() (context.Context, context.CancelFunc)
		check   func(calls int, ctx context.Context) (bool, error)
		wantErr error
		calls   int // 0: any number
	}{
		{name: "done at once", opts: fast, check: func(int, context.Context) (bool, error) { return true, nil }, calls: 1},
		{name: "done on the fourth call", opts: fast, check: func(n int, _ context.Context) (bool, error) { return n == 4, nil }, calls: 4},
		{name: "an error ends it", opts: fast, check: func(n int, _ context.Context) (bool, error) { return false, broken }, wantErr: broken, calls: 1},
		{name: "never done before the timeout", opts: PollOptions{Interval: time.Millisecond, Timeout: 30 * time.Millisecond},
			check: func(int, context.Context) (bool, error) { return false, nil }, wantErr: ErrPollTimeout},
		{name: "a check that fails because the timeout ended its context", opts: PollOptions{Interval: time.Millisecond, Timeout: 20 * time.Millisecond},
			check: func(_ int, ctx context.Context) (bool, error) { <-ctx.Done(); return false, ctx.Err() }, wantErr: ErrPollTimeout, calls: 1},
		{name: "a cancelled context", opts: fast, ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, check: func(int, context.Context) (bool, error) { return false, nil }, wantErr: context.Canceled, calls: 1},
		{name: "the context's deadline before the timeout", opts: PollOptions{Interval: time.Millisecond, Timeout: time.Hour}, ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, check: func(int, context.Context) (bool, error) { return false, nil }, wantErr: context.DeadlineExceeded},
		{name: "a long wait ends with the context", opts: PollOptions{Interval: time.Hour, Timeout: 20 * time.Millisecond},
			check: func(int, context.Context) (bool, error) { return false, nil }, wantErr: ErrPollTimeout, calls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			calls := 0
			start := time.Now()
			err := Poll(ctx, tc.opts, func(ctx context.Context) (bool, error) {
				calls++
				return tc.check(calls, ctx)
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Poll: %v, want %v", err, tc.wantErr)
			}
			if errors.Is(err, ErrPollTimeout) && errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a poll timeout also matches context.DeadlineExceeded: %v", err)
			}
			if tc.calls != 0 && calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Poll took %s", took)
			}
		})
	}
}
