// Command benchratio reads "go test -bench" output on stdin, echoes it, and
// then prints, for each pair given as an argument, a line
//
//	ratio <name> <value>
//
// where value is the median of the measured figure over the median of its
// baseline, both from the same run (each median taken over the runs of
// -count or of repeated invocations). A pair is written
// name=Measured:Baseline; each side is a benchmark name as go test prints
// it, without the "Benchmark" prefix and the -N CPU suffix, and by default
// means its ns/op; Name@unit picks a metric the benchmark reports with
// b.ReportMetric instead, as in PluginLaunch/x@sdk_p50_ns.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	metric    = regexp.MustCompile(`([0-9.e+-]+) (\S+)`)
)

func main() {
	pairs, err := parsePairs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchratio: %v\nusage: benchratio name=Measured:Baseline ... < bench.txt\n", err)
		os.Exit(2)
	}
	samples, err := read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchratio: %v\n", err)
		os.Exit(1)
	}
	lines, err := ratios(pairs, samples)
	for _, l := range lines {
		fmt.Println(l)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchratio: %v\n", err)
		os.Exit(1)
	}
}

type pair struct{ name, measured, baseline string }

func parsePairs(args []string) ([]pair, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no pairs given")
	}
	var out []pair
	for _, a := range args {
		name, rest, ok1 := strings.Cut(a, "=")
		m, b, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || name == "" || m == "" || b == "" {
			return nil, fmt.Errorf("pair %q is not name=Measured:Baseline", a)
		}
		out = append(out, pair{name, m, b})
	}
	return out, nil
}

// read collects samples per figure, keyed "Benchmark@unit" (and plain
// "Benchmark" for ns/op), copying input to echo.
func read(r io.Reader, echo io.Writer) (map[string][]float64, error) {
	samples := map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Fprintln(echo, sc.Text())
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		for _, f := range metric.FindAllStringSubmatch(m[2], -1) {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("parse %q: %w", sc.Text(), err)
			}
			key := m[1] + "@" + f[2]
			if f[2] == "ns/op" {
				key = m[1]
			}
			samples[key] = append(samples[key], v)
		}
	}
	return samples, sc.Err()
}

// ratios computes each pair's ratio of medians, with the medians first.
func ratios(pairs []pair, samples map[string][]float64) ([]string, error) {
	var lines []string
	var missing []string
	for _, p := range pairs {
		m, okM := median(samples[p.measured])
		b, okB := median(samples[p.baseline])
		if !okM || !okB || b == 0 {
			missing = append(missing, p.name)
			continue
		}
		lines = append(lines,
			fmt.Sprintf("median %s %.0f (%d runs), %s %.0f (%d runs)",
				p.measured, m, len(samples[p.measured]), p.baseline, b, len(samples[p.baseline])),
			fmt.Sprintf("ratio %s %.2f", p.name, m/b))
	}
	if len(missing) > 0 {
		return lines, fmt.Errorf("no samples for %s", strings.Join(missing, ", "))
	}
	return lines, nil
}

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}
