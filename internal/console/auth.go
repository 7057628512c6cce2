package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wabarouter/wabarouter/internal/config"
)

// cookieName is the session cookie's name.
const cookieName = "wabarouter_console"

// csrfField is the form field, and csrfHeader the header, that carry the
// CSRF token of a POST.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// session is who is signed in. Role is read from the config at every
// request, so a user removed or made a viewer loses what they lost at
// once; the cookie holds only the name, the expiry and a random nonce
// that the CSRF token is derived from.
type session struct {
	User    string `json:"u"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
	Role    string `json:"-"`
}

// sign is the HMAC-SHA256 of msg under the session key, for purpose.
func (c *Console) sign(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(c.cfg.SessionKey.Reveal()))
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(msg)
	return m.Sum(nil)
}

func (c *Console) cookieValue(s session) (string, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("console: encoding a session: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(c.sign("session", body)), nil
}

// errSignedOut is any request without a valid session.
var errSignedOut = errors.New("not signed in")

// sessionOf reads and checks the request's session cookie.
func (c *Console) sessionOf(r *http.Request) (session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, errSignedOut
	}
	b64, mac, ok := strings.Cut(ck.Value, ".")
	enc := base64.RawURLEncoding
	body, err1 := enc.DecodeString(b64)
	sig, err2 := enc.DecodeString(mac)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, c.sign("session", body)) {
		return session{}, errSignedOut
	}
	var s session
	if err := json.Unmarshal(body, &s); err != nil || s.Nonce == "" || c.now().Unix() >= s.Expires {
		return session{}, errSignedOut
	}
	u, found := c.cfg.User(s.User)
	if !found {
		return session{}, errSignedOut
	}
	s.Role = u.Role
	return s, nil
}

// csrfToken is the token every POST of s must carry: bound to the
// session's nonce, so a token seen once is no use with another session.
func (c *Console) csrfToken(s session) string {
	return base64.RawURLEncoding.EncodeToString(c.sign("csrf", []byte(s.Nonce)))
}

func (c *Console) checkCSRF(r *http.Request, s session) bool {
	given := r.Header.Get(csrfHeader)
	if given == "" {
		given = r.PostFormValue(csrfField)
	}
	want := c.csrfToken(s)
	return subtle.ConstantTimeCompare([]byte(given), []byte(want)) == 1
}

// sameOrigin refuses a POST a browser says came from another site. The
// CSRF token is the guard; this is a second one that costs nothing.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

type handler func(w http.ResponseWriter, r *http.Request, s session)

// read lets through a signed-in user; anyone else is sent to sign in.
func (c *Console) read(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.sessionOf(r)
		if err != nil {
			next := r.URL.RequestURI()
			http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		h(w, r, s)
	}
}

// write lets through a signed-in user's POST that carries the session's
// CSRF token, and, when editor is set, only an editor's.
func (c *Console) write(editor bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
		s, err := c.sessionOf(r)
		if err != nil {
			c.fail(w, r, nil, http.StatusUnauthorized, errors.New("sign in first: your session has ended or was never begun"))
			return
		}
		if !sameOrigin(r) || !c.checkCSRF(r, s) {
			c.fail(w, r, &s, http.StatusForbidden, errors.New("the form's security token is missing or stale; reload the page and try again"))
			return
		}
		if editor && s.Role != config.RoleEditor {
			c.fail(w, r, &s, http.StatusForbidden, fmt.Errorf("%s is a viewer: only editors add or expire silences, send tests and replay dead letters", s.User))
			return
		}
		h(w, r, s)
	}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := c.sessionOf(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		_ = s
		return
	}
	c.render(w, r, nil, http.StatusOK, "login", "Sign in", map[string]string{"Next": safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a redirect after sign-in inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "incidents"
	}
	return next
}

// dummyHash is compared against for a name nobody has, so that a wrong
// name takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	u, found := c.cfg.User(name)
	hash := dummyHash
	if found {
		hash = []byte(u.PasswordHash.Reveal())
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !sameOrigin(r) || !found || err != nil {
		c.log.WarnContext(r.Context(), "console: sign-in refused", "user", name, "remote", r.RemoteAddr)
		c.render(w, r, nil, http.StatusUnauthorized, "login", "Sign in",
			map[string]string{"Next": next, "Error": "That name and password do not match a console user.", "Name": name})
		return
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		c.fail(w, r, nil, http.StatusInternalServerError, fmt.Errorf("making a session: %w", err))
		return
	}
	s := session{User: u.Name, Expires: c.now().Add(c.cfg.SessionTTL).Unix(), Nonce: base64.RawURLEncoding.EncodeToString(nonce)}
	v, err := c.cookieValue(s)
	if err != nil {
		c.fail(w, r, nil, http.StatusInternalServerError, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: v, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secure(r), Expires: time.Unix(s.Expires, 0)})
	c.log.InfoContext(r.Context(), "console: signed in", "user", u.Name, "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// secure marks the cookie for HTTPS only when the console is reached over
// HTTPS, directly or through a proxy that says so.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, _ session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: secure(r), MaxAge: -1})
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}
