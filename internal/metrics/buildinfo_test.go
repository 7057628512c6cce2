package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/buildinfo"
)

func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewBuildInfo())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || families[0].GetName() != "wabarouter_build_info" {
		t.Fatalf("gathered %v, want wabarouter_build_info alone", families)
	}
	m := families[0].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	info := buildinfo.Read()
	for name, want := range map[string]string{"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion} {
		if labels[name] != want || want == "" {
			t.Errorf("label %s = %q, want %q", name, labels[name], want)
		}
	}
	if m.GetGauge().GetValue() != 1 {
		t.Errorf("value %v, want 1", m.GetGauge().GetValue())
	}
	if n, err := testutil.GatherAndCount(reg, "wabarouter_build_info"); n != 1 || err != nil {
		t.Errorf("count %d, %v", n, err)
	}
	if !strings.HasPrefix(info.GoVersion, "go") {
		t.Errorf("goversion %q", info.GoVersion)
	}
}
