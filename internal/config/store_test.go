package config

import (
	"strings"
	"testing"
)

// TestStoreDriver: the store section picks SQLite (the default) or
// Postgres; every mistake is an error at its place saying what to write,
// and the URL, which may hold a password, is never repeated.
func TestStoreDriver(t *testing.T) {
	t.Setenv("WR_TEST_DATABASE_URL", "postgres://wr:hunter2@db.internal:5432/wabarouter")
	cases := []struct {
		name     string
		yaml     string
		wantErrs []string
		check    func(t *testing.T, s Store)
	}{
		{name: "default is sqlite", yaml: "", check: func(t *testing.T, s Store) {
			if s.Driver != DriverSQLite || s.IsPostgres() || !strings.HasSuffix(s.Path, "data/wabarouter.db") || s.PoolSize != 0 {
				t.Errorf("store = %+v, want the SQLite default", s)
			}
		}},
		{name: "postgres from the environment", yaml: "store:\n  driver: postgres\n  url: ${WR_TEST_DATABASE_URL}\n  pool_size: 25\n",
			check: func(t *testing.T, s Store) {
				if !s.IsPostgres() || s.URL.Reveal() != "postgres://wr:hunter2@db.internal:5432/wabarouter" || s.PoolSize != 25 {
					t.Errorf("store = %+v", s)
				}
				if w := s.Where(); w != "postgres://db.internal:5432/wabarouter" {
					t.Errorf("Where() = %q, want the database without its user and password", w)
				}
			}},
		{name: "poll only", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n  poll_only: true\n",
			check: func(t *testing.T, s Store) {
				if !s.PollOnly {
					t.Errorf("store = %+v, want poll_only", s)
				}
			}},
		{name: "poll only not a bool", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n  poll_only: sometimes\n",
			wantErrs: []string{`c.yaml:7:14: store.poll_only "sometimes" must be true or false`}},
		{name: "poll only with sqlite", yaml: "store:\n  poll_only: true\n",
			wantErrs: []string{`c.yaml:5:14: store.poll_only is for driver: postgres`}},
		{name: "postgres pool default", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n",
			check: func(t *testing.T, s Store) {
				if s.PoolSize != DefaultPoolSize {
					t.Errorf("pool size %d, want %d", s.PoolSize, DefaultPoolSize)
				}
			}},
		{name: "unknown driver", yaml: "store:\n  driver: mysql\n",
			wantErrs: []string{`c.yaml:5:11: store.driver "mysql" must be sqlite (one file, the default) or postgres (several replicas on one database)`}},
		{name: "postgresql spelled out", yaml: "store:\n  driver: postgresql\n  url: postgres://db/w\n",
			wantErrs: []string{`c.yaml:5:11: store.driver "postgresql": write postgres`}},
		{name: "postgres without url", yaml: "store:\n  driver: postgres\n",
			wantErrs: []string{`c.yaml:5:11: store.url is required with driver: postgres, such as url: ${DATABASE_URL}`}},
		{name: "postgres with a path", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n  path: x.db\n",
			wantErrs: []string{`c.yaml:7:3: store.path is the SQLite file; with driver: postgres the store is the database store.url names`}},
		{name: "url without driver", yaml: "store:\n  url: postgres://db/w\n",
			wantErrs: []string{`c.yaml:5:3: store.url is for Postgres: add driver: postgres beside it`}},
		{name: "not a postgres url", yaml: "store:\n  driver: postgres\n  url: mysql://u:secretpw@db/w\n",
			wantErrs: []string{`c.yaml:6:8: store.url must be a postgres:// URL`}},
		{name: "pool size out of range", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n  pool_size: 0\n",
			wantErrs: []string{`c.yaml:7:14: store.pool_size "0" must be a whole number from 1 to 1000`}},
		{name: "pool size with sqlite", yaml: "store:\n  pool_size: 5\n",
			wantErrs: []string{`c.yaml:5:14: store.pool_size is for driver: postgres; the SQLite store has one writer`}},
		{name: "unset url for serve", yaml: "store:\n  driver: postgres\n  url: ${WR_TEST_UNSET_URL}\n",
			wantErrs: []string{`c.yaml:6:8: environment variable WR_TEST_UNSET_URL is not set`}},
		{name: "near miss", yaml: "store:\n  driver: postgres\n  url: postgres://db/w\n  pool_sise: 3\n",
			wantErrs: []string{`c.yaml:7:3: store: unknown key "pool_sise"; did you mean "pool_size"?`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(serverYAML+c.yaml))
			if len(c.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				c.check(t, cfg.Store)
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", c.wantErrs)
			}
			for _, want := range c.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secretpw") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the URL's password: %v", err)
			}
		})
	}
}

// TestStoreURLUnsetForRules: check, route and test judge rules without
// the database's URL in their environment; an unset one is a warning.
func TestStoreURLUnsetForRules(t *testing.T) {
	cfg, warnings, err := ParseFor("c.yaml", []byte("store:\n  driver: postgres\n  url: ${WR_TEST_UNSET_URL}\n"), Options{Purpose: ForRules})
	if err != nil {
		t.Fatalf("ParseFor(ForRules): %v", err)
	}
	if !cfg.Store.IsPostgres() || cfg.Store.URL != "" {
		t.Errorf("store = %+v, want postgres without a url", cfg.Store)
	}
	found := false
	for _, w := range warnings {
		found = found || w.String() == "c.yaml:3:8: warning: environment variable WR_TEST_UNSET_URL is not set; the commands that open the store need it"
	}
	if !found {
		t.Errorf("warnings = %v, want one at store.url", warnings)
	}
}
