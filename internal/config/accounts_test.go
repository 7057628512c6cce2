package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const accountsServer = "server:\n  verify_token: t\n  app_secrets: [a]\n"

func TestAccountsDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("accounts.yaml", "- waba_id: \"102290129340398\"\n  name: Acme Retail EU\n  team: emea-oncall\n  tags: [eu, retail]\n  phones:\n    \"+1 650-555-1111\": support line\n")
	write("accounts.csv", "waba_id,name,team,tags,phones\n102290129340398,Acme Retail EU,emea-oncall,eu;retail,+1 650-555-1111=support line;16505552222=sales\n")
	inline := "accounts:\n  - waba_id: \"102290129340398\"\n    name: Acme Retail EU\n    team: emea-oncall\n    tags: [eu, retail]\n    phones:\n      \"16505551111\": support line\n"
	for _, tc := range []struct{ name, yaml, file string }{
		{"inline", inline, ""},
		{"yaml file", "accounts: accounts.yaml\n", filepath.Join(dir, "accounts.yaml")},
		{"csv file", "accounts: accounts.csv\n", filepath.Join(dir, "accounts.csv")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "config.yaml"), []byte(accountsServer+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AccountsFile != tc.file {
				t.Errorf("AccountsFile %q, want %q", cfg.AccountsFile, tc.file)
			}
			acc := cfg.Accounts.Lookup("102290129340398", "16505551111")
			if acc.Name != "Acme Retail EU" || acc.Team != "emea-oncall" || strings.Join(acc.Tags, ",") != "eu,retail" || acc.PhoneLabel != "support line" {
				t.Errorf("Lookup = %+v", acc)
			}
			if other := cfg.Accounts.Lookup("999", ""); other.Name != "" {
				t.Errorf("an unlisted account has name %q", other.Name)
			}
		})
	}
}

func TestAccountsDirectoryMistakes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("dup.yaml", "- waba_id: \"1\"\n  name: A\n- waba_id: \"1\"\n  name: B\n")
	write("noid.csv", "name,team\nAcme,emea\n")
	write("badphone.csv", "waba_id,name,phones\n1,Acme,16505551111\n2,,\n")
	write("map.yaml", "waba_id: \"1\"\n")
	write("accounts.txt", "1,Acme\n")
	cfgPath := filepath.Join(dir, "config.yaml")
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"missing id and name", "accounts:\n  - team: x\n", []string{
			"config.yaml:5:5: account has no waba_id", "config.yaml:5:5: account has no name"}},
		{"id not digits", "accounts:\n  - waba_id: acme\n    name: Acme\n", []string{`config.yaml:5:5: waba_id "acme" must be digits only`}},
		{"unknown key", "accounts:\n  - waba_id: \"1\"\n    name: Acme\n    teem: x\n", []string{`config.yaml:7:5: accounts[0]: unknown key "teem"; did you mean "team"?`}},
		{"tags not a list", "accounts:\n  - waba_id: \"1\"\n    name: Acme\n    tags: eu\n", []string{"config.yaml:7:11: accounts[0].tags must be a list"}},
		{"not a list", "accounts:\n  waba_id: \"1\"\n", []string{"config.yaml:5:3: accounts must be a list of accounts or the path"}},
		{"duplicate in file", "accounts: dup.yaml\n", []string{"dup.yaml:3:3: waba_id 1 is listed twice (first at line 1)"}},
		{"csv without waba_id", "accounts: noid.csv\n", []string{"noid.csv:1: the header row has no waba_id column"}},
		{"csv bad phone and no name", "accounts: badphone.csv\n", []string{
			`badphone.csv:2:3: phone "16505551111" must be number=label`, "badphone.csv:3: account 2 has no name"}},
		{"yaml file not a list", "accounts: map.yaml\n", []string{"map.yaml:1:1: an accounts file must hold a list of accounts"}},
		{"missing file", "accounts: nowhere.csv\n", []string{"config.yaml:4:11: reading the accounts file:"}},
		{"wrong extension", "accounts: accounts.txt\n", []string{"config.yaml:4:11: accounts file " + filepath.Join(dir, "accounts.txt") + " must end in .yaml, .yml or .csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(cfgPath, []byte(accountsServer+tc.yaml))
			if err == nil {
				t.Fatal("parsed without error")
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors\n%s\nlack %q", got, w)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("error %v has no line", err)
			}
		})
	}
}
