package azure

import (
	"fmt"
	"strconv"
)

// size is a Container Apps CPU and memory combination. On the consumption
// workload profile an app's containers add up to one of sizes: CPU from
// 0.25 to 4 cores in steps of 0.25, with twice as many GiB of memory.
type size struct {
	CPU       float64
	MemoryGiB float64
}

// Memory renders the memory as Azure wants it ("1.5Gi").
func (s size) Memory() string { return strconv.FormatFloat(s.MemoryGiB, 'f', -1, 64) + "Gi" }

func (s size) String() string { return fmt.Sprintf("%g CPU, %s", s.CPU, s.Memory()) }

var sizes = func() []size {
	var out []size
	for q := 1; q <= 16; q++ {
		out = append(out, size{CPU: float64(q) / 4, MemoryGiB: float64(q) / 2})
	}
	return out
}()

// defaultSize is Azure's own default for an app that names no resources.
var defaultSize = size{CPU: 0.5, MemoryGiB: 1}

const gib = 1 << 30

// sizeFor returns the smallest size that gives at least cpu cores and
// memoryBytes of memory (zero: no wish), whether it differs from what was
// asked (rounded), and ok false when no size is that large.
func sizeFor(cpu float64, memoryBytes int64) (s size, rounded, ok bool) {
	if cpu <= 0 && memoryBytes <= 0 {
		return defaultSize, false, true
	}
	mem := float64(memoryBytes) / gib
	for _, s := range sizes {
		if s.CPU >= cpu && s.MemoryGiB >= mem {
			rounded := cpu > 0 && s.CPU != cpu || memoryBytes > 0 && s.MemoryGiB != mem || cpu <= 0 || memoryBytes <= 0
			return s, rounded, true
		}
	}
	return size{}, true, false
}
