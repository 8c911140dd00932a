package sdk

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergeLogHistory(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	line := func(replica string, sec int, msg string) LogLine {
		return LogLine{Time: t0.Add(time.Duration(sec) * time.Second), Service: "api", Replica: replica, Stream: Stdout, Message: msg}
	}
	a := []LogLine{line("a", 0, "a0"), line("a", 2, "a2"), line("a", 4, "a4"), line("a", 6, "a6")}
	b := []LogLine{line("b", 1, "b1"), line("b", 2, "b2"), line("b", 3, "b3")}
	for _, tc := range []struct {
		name     string
		replicas [][]LogLine
		tail     int
		since    time.Time
		want     []string
	}{
		{"nothing", nil, 0, time.Time{}, nil},
		{"one replica", [][]LogLine{a}, 0, time.Time{}, []string{"a0", "a2", "a4", "a6"}},
		{"two replicas by time, equal times in replica order", [][]LogLine{a, b}, 0, time.Time{}, []string{"a0", "b1", "a2", "b2", "b3", "a4", "a6"}},
		{"the other replica first at equal times", [][]LogLine{b, a}, 0, time.Time{}, []string{"a0", "b1", "b2", "a2", "b3", "a4", "a6"}},
		{"tail per replica", [][]LogLine{a, b}, 2, time.Time{}, []string{"b2", "b3", "a4", "a6"}},
		{"a tail longer than the history", [][]LogLine{a, b}, 10, time.Time{}, []string{"a0", "b1", "a2", "b2", "b3", "a4", "a6"}},
		{"since keeps lines at or after it", [][]LogLine{a, b}, 0, t0.Add(2 * time.Second), []string{"a2", "b2", "b3", "a4", "a6"}},
		{"since first, then tail", [][]LogLine{a, b}, 3, t0.Add(3 * time.Second), []string{"b3", "a4", "a6"}},
		{"since after everything", [][]LogLine{a, b}, 1, t0.Add(time.Hour), nil},
		{"lines a replica wrote out of time order keep their order among themselves",
			[][]LogLine{{line("c", 5, "c5"), line("c", 5, "c5'"), line("c", 1, "c1")}}, 0, time.Time{}, []string{"c1", "c5", "c5'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, l := range MergeLogHistory(tc.replicas, tc.tail, tc.since) {
				got = append(got, l.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("merged history (-want +got):\n%s", diff)
			}
		})
	}
	if len(a) != 4 || a[0].Message != "a0" {
		t.Errorf("MergeLogHistory changed its input: %v", a)
	}
}

func TestSendLogsStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	gone := errors.New("caller gone")
	lines := []LogLine{{Message: "1"}, {Message: "2"}, {Message: "3"}}
	for _, tc := range []struct {
		name    string
		failAt  int
		wantErr error
		want    int
	}{
		{"every line", -1, nil, 3},
		{"a caller that leaves", 1, gone, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sent := 0
			err := SendLogs(func(LogLine) error {
				sent++
				if sent-1 == tc.failAt {
					return gone
				}
				return nil
			}, lines)
			if !errors.Is(err, tc.wantErr) || sent != tc.want {
				t.Errorf("SendLogs: %v after %d lines, want %v after %d", err, sent, tc.wantErr, tc.want)
			}
		})
	}
}
