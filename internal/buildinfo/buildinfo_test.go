package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	base := Info{Version: Unknown, Revision: Unknown, GoVersion: runtime.Version()}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"a tagged install", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			Info{Version: "v1.4.0", Revision: Unknown, GoVersion: "go1.26.8"}},
		{"a build in a modified work tree", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "de8cb19"}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "(devel)", Revision: "de8cb19-modified", GoVersion: "go1.26.8"}},
		{"a clean work tree", debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "de8cb19"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: Unknown, Revision: "de8cb19", GoVersion: runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(&tt.bi, base); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVersionOverride(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v9.9.9"
	if got := Read().Version; got != "v9.9.9" {
		t.Errorf("Version = %q, want the link-time override", got)
	}
}
