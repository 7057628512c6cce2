package sinks

import "testing"

func TestStripBidi(t *testing.T) {
	cases := []struct{ in, want string }{
		{"WABA banned", "WABA banned"},
		{"Template \u202edesab\u202c PAUSED", "Template desab PAUSED"},
		{"\u202a\u202b\u202c\u202d\u202e", ""},
		{"a\u2066b\u2067c\u2068d\u2069e", "abcde"},
		{"mark\u200e\u200f\u061c", "mark"},
		{"عربي order_update", "عربي order_update"},
		{"zero\u200bwidth space is not a bidi control", "zero\u200bwidth space is not a bidi control"},
	}
	for _, c := range cases {
		if got := StripBidi(c.in); got != c.want {
			t.Errorf("StripBidi(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
