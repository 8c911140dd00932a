package aws

import (
	"fmt"
	"math"
)

// fargateSize is a valid Fargate task size: CPU units and memory in MiB.
type fargateSize struct {
	CPU    int // 1024 units = 1 vCPU
	Memory int // MiB
}

// fargateCPUs lists each CPU size with its memory range and step (MiB),
// from AWS's table of Fargate task sizes.
var fargateCPUs = []struct{ cpu, minMem, maxMem, step int }{
	{256, 512, 2048, 512}, // 512, 1024, 2048: 1536 is not offered, see memoriesFor
	{512, 1024, 4096, 1024},
	{1024, 2048, 8192, 1024},
	{2048, 4096, 16384, 1024},
	{4096, 8192, 30720, 1024},
	{8192, 16384, 61440, 4096},
	{16384, 32768, 122880, 8192},
}

// memoriesFor lists the valid memory sizes of one CPU size.
func memoriesFor(i int) []int {
	c := fargateCPUs[i]
	var out []int
	for m := c.minMem; m <= c.maxMem; m += c.step {
		if c.cpu == 256 && m == 1536 {
			continue
		}
		out = append(out, m)
	}
	return out
}

// sizeFor returns the smallest Fargate size with at least cpu cores and
// memory bytes (0: no request), and whether it differs from the request:
// no request is approximated too, since every Fargate task has a size.
func sizeFor(cpu float64, memory int64) (fargateSize, bool, error) {
	units := int(math.Ceil(cpu * 1024))
	mib := int((memory + (1<<20 - 1)) >> 20)
	for i, c := range fargateCPUs {
		if c.cpu < units {
			continue
		}
		for _, m := range memoriesFor(i) {
			if m >= mib {
				size := fargateSize{CPU: c.cpu, Memory: m}
				exact := units == c.cpu && float64(units) == cpu*1024 && int64(m)<<20 == memory
				return size, !exact, nil
			}
		}
	}
	return fargateSize{}, false, fmt.Errorf("no Fargate task size has %g vCPU and %d MiB: the largest is 16 vCPU with 120 GiB", cpu, mib)
}

func (s fargateSize) String() string {
	return fmt.Sprintf("%g vCPU, %d MiB", float64(s.CPU)/1024, s.Memory)
}
