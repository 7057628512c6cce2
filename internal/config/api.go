package config

import (
	"gopkg.in/yaml.v3"
)

// MinAPITokenLength is the shortest api.token accepted: the token is all
// that guards the incidents and the decision log, so it must not be
// guessable.
const MinAPITokenLength = 16

// API configures the read-only JSON API under /api/v1/ (incidents and
// why). It is off unless Token is set.
type API struct {
	// Token is the bearer token every request must carry.
	Token Secret
}

// Enabled reports whether the API is served.
func (a API) Enabled() bool { return a.Token != "" }

func (p *parser) api(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "api must be a mapping with a token, got %s", kindName(v))
		return
	}
	var haveToken bool
	p.fields(v, "api", map[string]func(k, v *yaml.Node){
		"token": func(_, v *yaml.Node) {
			haveToken = true
			p.lenient(p.partial(), "the API is off here, and serve refuses to start without it", func() {
				val, ok := p.str(v, "api.token")
				switch {
				case !ok:
				case val == "":
					// Almost always a variable set to "": an API open to
					// anyone must not come of it.
					p.errorf(deref(v), "api.token must not be empty; leave the api section out to keep the API off")
				case len(val) < MinAPITokenLength:
					p.errorf(deref(v), "api.token must be at least %d characters (it is %d); make one with: openssl rand -hex 32", MinAPITokenLength, len(val))
				default:
					cfg.API.Token = Secret(val)
				}
			})
		},
	})
	if !haveToken {
		p.errorf(v, "api.token is required: the API is served only to requests that carry it; leave the api section out to keep the API off")
	}
}
