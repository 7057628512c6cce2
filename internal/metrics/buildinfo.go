package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/wabarouter/wabarouter/internal/buildinfo"
)

// NewBuildInfo returns the collector of wabarouter_build_info, a constant 1
// labelled with the running binary's version, revision and goversion (and
// goos, goarch), so dashboards can tell which build answered. It is
// client_golang's version collector, with the labels taken from the build
// information Go records rather than from its link-time variables.
func NewBuildInfo() prometheus.Collector {
	info := buildinfo.Read()
	return version.NewCollector("wabarouter", version.WithExtraConstLabels(prometheus.Labels{
		"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion,
	}))
}
