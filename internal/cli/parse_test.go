package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string // substrings of stdout, one per expected event line
		wantErr  string   // substring of stderr
	}{
		{
			name:     "file",
			args:     []string{"../../testdata/webhooks/seed_pv_restriction_biz_messaging.json"},
			wantCode: ExitOK,
			wantOut:  []string{`"types":["RESTRICTED_BIZ_INITIATED_MESSAGING"]`},
		},
		{
			name:     "stdin",
			args:     []string{"-"},
			stdin:    `{"object":"whatsapp_business_account","entry":[{"id":"7","time":1,"changes":[{"field":"account_review_update","value":{"decision":"APPROVED"}}]}]}`,
			wantCode: ExitOK,
			wantOut:  []string{`"waba_id":"7"`},
		},
		{
			name:     "bad input names the file",
			args:     []string{"../../testdata/bad/wrong_object.json"},
			wantCode: ExitFailure,
			wantErr:  `../../testdata/bad/wrong_object.json: payload is not about a WhatsApp Business Account: object is "page"`,
		},
		{
			name:     "empty entry list: no events, a warning, exit 0",
			args:     []string{"-"},
			stdin:    `{"object":"whatsapp_business_account","entry":[]}`,
			wantCode: ExitOK,
			wantOut:  []string{},
			wantErr:  "-: warning: payload holds no changes (the entry list is empty); nothing to route",
		},
		{
			name:     "entry with no changes: no events, a warning, exit 0",
			args:     []string{"-"},
			stdin:    `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[]}]}`,
			wantCode: ExitOK,
			wantOut:  []string{},
			wantErr:  "-: warning: payload holds no changes (no entry has changes); nothing to route",
		},
		{
			name:     "missing file",
			args:     []string{"nope.json"},
			wantCode: ExitFailure,
			wantErr:  "nope.json: open nope.json",
		},
		{
			name:     "healthy siblings printed, bad change reported",
			args:     []string{"../../testdata/webhooks/var_one_bad_change.json"},
			wantCode: ExitFailure,
			wantOut:  []string{`"violation_type":"SCAM"`, `"decision":"REJECTED"`},
			wantErr:  "entry[0].changes[1]: value is a string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), append([]string{"parse"}, tt.args...), IO{In: strings.NewReader(tt.stdin), Out: &out, Err: &errOut})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if out.Len() == 0 {
				lines = nil
			}
			if tt.wantOut != nil && len(lines) != len(tt.wantOut) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tt.wantOut), out.String())
			}
			for i, want := range tt.wantOut {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d = %s, want it to contain %s", i, lines[i], want)
				}
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}
