package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// TestSilenceHidesABanUntilItExpires: beside a running router, a silence
// of one account is previewed (it lists the quality change it would have
// hidden) and added; a ban of that account then opens its incident
// quietly, reaching no sink, and why names the silence. When the silence
// is expired with the ban still open, the ban reaches every sink.
func TestSilenceHidesABanUntilItExpires(t *testing.T) {
	t.Parallel()
	ip := startIncidentPeers(t)
	cond := `waba_id == "102290129340398"`

	ip.pd.Want(1, "the quality trigger, before any silence", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && strings.HasSuffix(e.Event.DedupKey, "/quality")
	})
	ip.post(t, numbers(1764590000, [2]string{"16505551111", "FLAGGED"}))
	preview := ip.r.Run(t, "silence", "add", "--preview", "--when", cond, "--for", "2h", "--author", "ana", "--comment", "migration OPS-42")
	if preview.Code != 0 || !strings.Contains(preview.Stdout, "phone_number_quality_update/FLAGGED") ||
		!strings.Contains(preview.Stderr, "would have hidden 1 event") {
		t.Fatalf("silence add --preview: exit %d\nstdout: %s\nstderr: %s", preview.Code, preview.Stdout, preview.Stderr)
	}
	if list := ip.r.Run(t, "silence", "list", "--all"); strings.Contains(list.Stdout, "sil-") {
		t.Fatalf("--preview added a silence:\n%s", list.Stdout)
	}

	added := ip.r.Run(t, "silence", "add", "--when", cond, "--for", "2h", "--author", "ana", "--comment", "migration OPS-42", "--format", "json")
	var sil struct{ ID, State string }
	if added.Code != 0 || json.Unmarshal([]byte(added.Stdout), &sil) != nil || sil.State != "active" {
		t.Fatalf("silence add: exit %d\nstdout: %s\nstderr: %s", added.Code, added.Stdout, added.Stderr)
	}
	pagesBefore, chatBefore, mailBefore := ip.pd.Len(), ip.slack.Len(), ip.mail.Len()

	ip.post(t, ban(1764597600, "DISABLE"))
	if ip.pd.Len() != pagesBefore || ip.slack.Len() != chatBefore || ip.mail.Len() != mailBefore {
		t.Fatalf("the silenced ban reached a sink:\n%s\n%s\n%s", ip.pd.Report(), ip.slack.Report(), ip.mail.Report())
	}
	incs := ip.r.Run(t, "incidents", "--format", "json")
	if !strings.Contains(incs.Stdout, `"rule":"banned"`) || !strings.Contains(incs.Stdout, `"state":"open"`) {
		t.Fatalf("the silenced ban opened no incident:\n%s", incs.Stdout)
	}
	why := ip.r.Run(t, "why", "--waba", "102290129340398", "--format", "json")
	if strings.Count(why.Stdout, `"silence":"`+sil.ID+`"`) != 3 {
		t.Fatalf("why does not name silence %s for the ban's three notifications:\n%s", sil.ID, why.Stdout)
	}
	if text := ip.r.Run(t, "why", "--waba", "102290129340398"); !strings.Contains(text.Stdout, sil.ID) {
		t.Errorf("why's text does not name silence %s:\n%s", sil.ID, text.Stdout)
	}

	ip.pd.Want(1, "the ban's trigger once the silence ended", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && strings.Contains(e.Event.DedupKey, "/ban")
	})
	if res := ip.r.Run(t, "silence", "expire", sil.ID); res.Code != 0 {
		t.Fatalf("silence expire: exit %d: %s", res.Code, res.Stderr)
	}
	ip.pd.Await(t)
	ip.slack.AwaitCount(t, chatBefore+1)
	ip.mail.AwaitCount(t, mailBefore+1)
	ip.p.WaitDrained(t)
	if got := ip.mail.Received()[mailBefore]; !strings.Contains(got.Text, "Silence "+sil.ID) {
		t.Errorf("the released ban's mail does not say the silence held it:\n%s", got.Text)
	}
	ip.pd.Check(t)
	if list := ip.r.Run(t, "silence", "list", "--all"); !strings.Contains(list.Stdout, sil.ID) || !strings.Contains(list.Stdout, "expired") {
		t.Errorf("the expired silence is not kept:\n%s", list.Stdout)
	}
}
