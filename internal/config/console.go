package config

import (
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// The console's limits and defaults.
const (
	// MinConsoleSessionKeyLength is the shortest console.session_key
	// accepted: the key signs every session cookie, so whoever can guess
	// it can sign in as anyone.
	MinConsoleSessionKeyLength = 32
	// DefaultConsoleSessionTTL is how long a sign-in lasts, a working day.
	DefaultConsoleSessionTTL = 12 * time.Hour
)

// The roles of a console user: a viewer reads; an editor also adds and
// expires silences, sends test notifications and replays dead letters.
const (
	RoleViewer = "viewer"
	RoleEditor = "editor"
)

// Console configures the web console under /console/. It is off unless
// the config has a console section with at least one user.
type Console struct {
	// SessionKey signs the session cookies (HMAC-SHA256); changing it
	// signs everyone out.
	SessionKey Secret
	SessionTTL time.Duration
	Users      []ConsoleUser
}

// ConsoleUser is one person who may sign in to the console.
type ConsoleUser struct {
	Name string
	Role string
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$, as
	// `wabarouter console hash-password` or `htpasswd -nbBC 10` make).
	PasswordHash Secret
}

// Enabled reports whether the console is served.
func (c Console) Enabled() bool { return len(c.Users) > 0 && c.SessionKey != "" }

// User finds a user by name.
func (c Console) User(name string) (ConsoleUser, bool) {
	for _, u := range c.Users {
		if u.Name == name {
			return u, true
		}
	}
	return ConsoleUser{}, false
}

func (p *parser) console(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "console must be a mapping with a session_key and users, got %s", kindName(v))
		return
	}
	c := Console{SessionTTL: DefaultConsoleSessionTTL}
	var haveKey, haveUsers bool
	p.fields(v, "console", map[string]func(k, v *yaml.Node){
		"session_key": func(_, v *yaml.Node) {
			haveKey = true
			p.lenient(p.partial(), "the console is off here, and serve refuses to start without it", func() {
				val, ok := p.str(v, "console.session_key")
				switch {
				case !ok:
				case len(val) < MinConsoleSessionKeyLength:
					p.errorf(deref(v), "console.session_key must be at least %d characters (it is %d); make one with: openssl rand -hex 32",
						MinConsoleSessionKeyLength, len(val))
				default:
					c.SessionKey = Secret(val)
				}
			})
		},
		"session_ttl": func(_, v *yaml.Node) {
			val, ok := p.str(v, "console.session_ttl")
			if !ok {
				return
			}
			d, err := time.ParseDuration(val)
			if err != nil || d < time.Minute {
				p.errorf(v, "console.session_ttl %q must be a duration of at least a minute, such as 12h", val)
				return
			}
			c.SessionTTL = d
		},
		"users": func(_, v *yaml.Node) {
			haveUsers = true
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				p.errorf(v, "console.users must list at least one user, such as [{name: ana, role: editor, password_hash: \"$2a$10$...\"}]")
				return
			}
			seen := map[string]int{}
			for i, item := range v.Content {
				u, ok := p.consoleUser(deref(item), i)
				if !ok {
					continue
				}
				if line, dup := seen[u.Name]; dup {
					p.errorf(deref(item), "console.users[%d]: user %q is listed twice (first at line %d)", i, u.Name, line)
					continue
				}
				seen[u.Name] = deref(item).Line
				c.Users = append(c.Users, u)
			}
		},
	})
	if !haveKey {
		p.errorf(v, "console.session_key is required: it signs the session cookies; make one with: openssl rand -hex 32")
	}
	if !haveUsers {
		p.errorf(v, "console.users is required: the console lets in only the users listed; leave the console section out to keep it off")
	}
	cfg.Console = c
}

func (p *parser) consoleUser(v *yaml.Node, i int) (ConsoleUser, bool) {
	where := fmt.Sprintf("console.users[%d]", i)
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "%s must be a mapping with name, role and password_hash, got %s", where, kindName(v))
		return ConsoleUser{}, false
	}
	var u ConsoleUser
	ok := true
	p.fields(v, where, map[string]func(k, v *yaml.Node){
		"name": func(_, v *yaml.Node) {
			val, good := p.str(v, where+".name")
			if good && (val == "" || len(val) > 64) {
				p.errorf(v, "%s.name must be 1 to 64 characters", where)
				good = false
			}
			u.Name, ok = val, ok && good
		},
		"role": func(_, v *yaml.Node) {
			val, good := p.str(v, where+".role")
			if good && val != RoleViewer && val != RoleEditor {
				p.errorf(v, "%s.role %q must be %s (reads) or %s (also adds and expires silences, sends tests, replays dead letters)",
					where, val, RoleViewer, RoleEditor)
				good = false
			}
			u.Role, ok = val, ok && good
		},
		"password_hash": func(_, v *yaml.Node) {
			val, good := p.str(v, where+".password_hash")
			if good {
				if _, err := bcrypt.Cost([]byte(val)); err != nil {
					p.errorf(deref(v), "%s.password_hash is not a bcrypt hash; make one with: wabarouter console hash-password", where)
					good = false
				}
			}
			u.PasswordHash, ok = Secret(val), ok && good
		},
	})
	for _, key := range []struct {
		name string
		set  bool
	}{{"name", u.Name != ""}, {"role", u.Role != ""}, {"password_hash", u.PasswordHash != ""}} {
		if !key.set && ok {
			p.errorf(v, "%s.%s is required", where, key.name)
			ok = false
		}
	}
	return u, ok
}
