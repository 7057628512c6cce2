package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the CPU profile into cpuPath and block profiling for
// blockPath ("" for neither); stop writes them out. They are for measuring
// the router under the load tool, where a debug endpoint would change what
// is measured.
func startProfiles(cpuPath, blockPath string) (stop func() error, err error) {
	var cpu *os.File
	if cpuPath != "" {
		if cpu, err = os.Create(cpuPath); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			_ = cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if blockPath != "" {
		runtime.SetBlockProfileRate(10_000) // a sample every 10 µs blocked
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if blockPath != "" {
			f, err := os.Create(blockPath)
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("--blockprofile: %w", err))...)
			}
			errs = append(errs, pprof.Lookup("block").WriteTo(f, 0), f.Close())
		}
		return errors.Join(errs...)
	}, nil
}
