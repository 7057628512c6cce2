package benchio

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Counters reads the bytes this process passed to write calls and the
// number of those calls, where the system tells (Linux); zero elsewhere.
func Counters() (bytes, calls int64) {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(value, 10, 64)
		switch {
		case !ok:
		case name == "wchar":
			bytes = n
		case name == "syscw":
			calls = n
		}
	}
	return bytes, calls
}

// Report adds to b the bytes written and write calls per operation since
// Counters returned wrote and writes, where the system tells.
func Report(b *testing.B, wrote, writes int64) {
	if w, n := Counters(); w > 0 {
		b.ReportMetric(float64(w-wrote)/float64(b.N), "bytes-written/op")
		b.ReportMetric(float64(n-writes)/float64(b.N), "writes/op")
	}
}
