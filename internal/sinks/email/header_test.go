package email

import (
	"bytes"
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// rawHeader returns header name of the message in data as it was sent:
// its first line's value and each continuation line, CRLFs kept.
func rawHeader(t *testing.T, data []byte, name string) (lines []string) {
	t.Helper()
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n") {
		switch {
		case len(lines) > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")):
			lines = append(lines, l)
		case len(lines) > 0:
			return lines
		case strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":"):
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no %s header in:\n%s", name, head)
	}
	return lines
}

// decodeRaw unfolds a header's lines as RFC 5322 3.2.2 says (dropping
// each CRLF and nothing else), drops the colon and the one space the
// header's name is written with, and decodes its encoded-words.
func decodeRaw(t *testing.T, name string, lines []string) string {
	t.Helper()
	v := strings.Join(lines, "")
	v = strings.TrimPrefix(v[len(name)+1:], " ")
	got, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decoding %q: %v", v, err)
	}
	return got
}

// TestSubjectFolding: every subject, whatever its characters and words,
// is written in lines of at most 78 characters that unfold and decode to
// the subject exactly (no leading space, no space added at a fold or
// lost), with Thread-Topic alike; follow-ups included.
func TestSubjectFolding(t *testing.T) {
	long := strings.Repeat("x", 150)
	cases := []struct{ name, title string }{
		{"short", "WABA banned"},
		{"many words", strings.Repeat("quality went down again ", 12)},
		{"long token", "Template " + long + " (en_US) PAUSED"},
		{"token first", long},
		{"accents", "Modèle «commande_expédiée» suspendu — qualité basse"},
		{"emoji and CJK", "テンプレート 注文確認 が一時停止されました 🚨 " + strings.Repeat("品質", 40)},
		{"looks encoded", "Template =?UTF-8?q?approved?= is REJECTED"},
		{"underscores and specials", `a_b=c?d "quoted" (paren) <angle> tab:here; 100%`},
		{"control characters", "WABA\x00 banned\x1b[31m red"},
		{"at the cut", strings.Repeat("é", 199)},
	}
	cfg := Config{From: "wabarouter@example.com", To: []string{"oncall@example.com"}}
	for _, c := range cases {
		for _, follow := range []bool{false, true} {
			name := c.name
			if follow {
				name += "/follow-up"
			}
			t.Run(name, func(t *testing.T) {
				n := sinkstest.Ban()
				n.Title = c.title
				want, thread := Subject(n), ""
				if follow {
					thread = Thread("root.1@wabarouter", want)
					want = "Re: " + want
				}
				m, err := message(cfg, n, thread)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if _, err := m.WriteTo(&b); err != nil {
					t.Fatal(err)
				}
				if utf8.RuneCountInString(want) > 200 {
					t.Errorf("subject of %d characters", utf8.RuneCountInString(want))
				}
				for _, h := range []string{"Subject", "Thread-Topic"} {
					lines := rawHeader(t, b.Bytes(), h)
					for i, l := range lines {
						if len(l) > 78 {
							t.Errorf("%s line %d is %d characters: %q", h, i, len(l), l)
						}
					}
					wantH := want
					if h == "Thread-Topic" {
						wantH = strings.TrimPrefix(want, "Re: ")
					}
					if got := decodeRaw(t, h, lines); got != wantH {
						t.Errorf("%s decodes to\n%q, want\n%q; raw:\n%s", h, got, wantH, strings.Join(lines, "\r\n"))
					}
				}
			})
		}
	}
}

// TestFoldTextPlain: ordinary subjects stay readable in the raw mail:
// folded at spaces, not encoded.
func TestFoldTextPlain(t *testing.T) {
	got := foldText("Subject", "[ERROR] "+strings.Repeat("quality went down ", 6)+"end")
	if strings.Contains(got, "=?") || !strings.Contains(got, "\r\n ") {
		t.Errorf("foldText = %q; want plain text folded at a space", got)
	}
	if got := foldText("Subject", "[ERROR] WABA banned"); got != "[ERROR] WABA banned" {
		t.Errorf("foldText = %q", got)
	}
}
