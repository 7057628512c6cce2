package config

// Headers returns a webhook sink's headers. Their values are Secrets:
// they usually carry Authorization tokens or API keys.
func (s Sink) Headers() map[string]Secret {
	h, _ := s.Settings["headers"].(map[string]Secret)
	return h
}
