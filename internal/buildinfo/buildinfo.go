package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is, when set at link time, the version reported instead of the
// one Go recorded, for release builds made outside a module proxy:
//
//	go build -ldflags "-X github.com/wabarouter/wabarouter/internal/buildinfo.Version=v1.4.0" ./cmd/wabarouter
var Version string

// Unknown stands for what the build did not record, such as the commit of
// a build made outside a Git work tree.
const Unknown = "unknown"

// Info describes one build.
type Info struct {
	// Version is the -ldflags override, else the module version Go
	// recorded: a tag such as v1.4.0 for `go install …@v1.4.0`, a
	// pseudo-version for a build in a Git work tree, or "(devel)".
	Version string
	// Revision is the commit, with "-modified" when the work tree had
	// changes.
	Revision string
	// GoVersion is the Go release that built the binary, e.g. go1.26.8.
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Read returns the running binary's build information.
func Read() Info {
	info := Info{Version: Unknown, Revision: Unknown, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info = fromBuildInfo(bi, info)
	}
	if Version != "" {
		info.Version = Version
	}
	return info
}

func fromBuildInfo(bi *debug.BuildInfo, info Info) Info {
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Revision != Unknown {
		info.Revision += "-modified"
	}
	return info
}
