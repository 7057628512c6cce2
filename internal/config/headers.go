package config

// Headers returns a webhook sink's headers. Their values are Secrets:
// they usually carry Authorization tokens or API keys.
func (s Sink) Headers() map[string]Secret {
	h, _ := s.Settings["headers"].(map[string]Secret)
	return h
}

// secretHeaders turns the header values of every sink into Secrets, right
// after parsing, so that no dump of the config shows them.
func secretHeaders(sinks []Sink) {
	for _, s := range sinks {
		h, ok := s.Settings["headers"].(map[string]string)
		if !ok {
			continue
		}
		secret := make(map[string]Secret, len(h))
		for k, v := range h {
			secret[k] = Secret(v)
		}
		s.Settings["headers"] = secret
	}
}
