package sdk

import (
	"slices"
	"time"
)

// MergeLogHistory merges the log history of several replicas into one
// history in time order, as LogStreamer.Logs sends it before following.
// Each element of replicas is one replica's lines in the order it wrote
// them. Of each replica, lines older than since are dropped first (a zero
// since keeps them all), then all but the last tail lines (tail zero or
// less keeps them all); the rest are merged by Time, stably: lines with the
// same time keep the order of replicas, and of each replica's lines. A
// backend whose API already applies tail and since loses nothing by
// passing them again.
func MergeLogHistory(replicas [][]LogLine, tail int, since time.Time) []LogLine {
	var out []LogLine
	for _, lines := range replicas {
		if !since.IsZero() {
			lines = slices.DeleteFunc(slices.Clone(lines), func(l LogLine) bool { return l.Time.Before(since) })
		}
		if tail > 0 && len(lines) > tail {
			lines = lines[len(lines)-tail:]
		}
		out = append(out, lines...)
	}
	slices.SortStableFunc(out, func(a, b LogLine) int { return a.Time.Compare(b.Time) })
	return out
}

// SendLogs sends lines one by one, and stops at the first error, which it
// returns: the caller is gone.
func SendLogs(send LogSender, lines []LogLine) error {
	for _, l := range lines {
		if err := send(l); err != nil {
			return err
		}
	}
	return nil
}
