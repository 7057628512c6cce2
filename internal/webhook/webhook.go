package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Path is where the endpoint is served.
const Path = "/webhook"

// SignatureHeader carries Meta's HMAC-SHA256 of the raw body.
const SignatureHeader = "X-Hub-Signature-256"

// DefaultMaxBodyBytes applies when Options.MaxBodyBytes is not positive.
const DefaultMaxBodyBytes int64 = 4 << 20

const (
	sigPrefix     = "sha256="
	maxReasonLen  = 200
	plainTextType = "text/plain; charset=utf-8"
)

// Acceptor takes a verified raw webhook body. Returning nil promises the
// body will not be lost, since Meta is told 200 and will not resend it.
type Acceptor interface {
	Accept(ctx context.Context, body []byte) error
}

// Outcome is what became of one POST, for Options.Observe.
type Outcome string

// Outcomes of a POST.
const (
	Accepted         Outcome = "accepted"
	MissingSignature Outcome = "missing_signature"
	BadSignature     Outcome = "bad_signature" // malformed, or matching no secret
	TooLarge         Outcome = "too_large"
	Unreadable       Outcome = "unreadable" // the body could not be read
	Invalid          Outcome = "invalid"    // Validate refused it; err says why
	Unavailable      Outcome = "unavailable"
	BadMethod        Outcome = "bad_method"
)

// Options configures NewHandler.
type Options struct {
	// VerifyToken answers Meta's GET handshake. Empty refuses every
	// handshake rather than accepting an empty token.
	VerifyToken string
	// AppSecrets are tried in turn, so secrets can be rotated and several
	// apps can share one endpoint. Empty entries are ignored because an
	// empty HMAC key would let anyone sign.
	AppSecrets []string
	// MaxBodyBytes bounds a POST body; not positive means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Validate, if set, rejects authenticated bodies that are not usable
	// webhook payloads; its error message is returned to the caller.
	Validate func(body []byte) error
	// Acceptor receives every authenticated, valid body.
	Acceptor Acceptor
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Observe, if set, is told the outcome of every POST (and of every
	// request with another method than GET), with Validate's or the
	// Acceptor's error where there is one; metrics hang off it.
	Observe func(Outcome, error)
}

type handler struct {
	token    []byte
	secrets  [][]byte
	maxBody  int64
	validate func([]byte) error
	acceptor Acceptor
	log      *slog.Logger
	observe  func(Outcome, error)
}

// NewHandler returns a handler serving Path.
func NewHandler(o Options) http.Handler {
	h := &handler{
		token:    []byte(o.VerifyToken),
		maxBody:  o.MaxBodyBytes,
		validate: o.Validate,
		acceptor: o.Acceptor,
		log:      o.Logger,
		observe:  o.Observe,
	}
	if h.observe == nil {
		h.observe = func(Outcome, error) {}
	}
	for _, s := range o.AppSecrets {
		if s != "" {
			h.secrets = append(h.secrets, []byte(s))
		}
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	return mux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.deliver(w, r)
	default:
		h.observe(BadMethod, nil)
		w.Header().Set("Allow", "GET, POST")
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (h *handler) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	if q.Get("hub.mode") != "subscribe" || len(h.token) == 0 || subtle.ConstantTimeCompare(token, h.token) != 1 {
		h.log.WarnContext(r.Context(), "webhook handshake refused",
			"remote", r.RemoteAddr, "mode", q.Get("hub.mode"))
		plain(w, http.StatusForbidden, "forbidden")
		return
	}
	challenge := q.Get("hub.challenge")
	if reason := challengeProblem(challenge); reason != "" {
		h.log.WarnContext(r.Context(), "webhook handshake refused: "+reason, "remote", r.RemoteAddr)
		plain(w, http.StatusBadRequest, reason)
		return
	}
	h.log.InfoContext(r.Context(), "webhook handshake accepted", "remote", r.RemoteAddr)
	// nosniff because the challenge is reflected back verbatim.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	plain(w, http.StatusOK, challenge)
}

// MaxChallengeBytes bounds the hub.challenge a handshake echoes. Meta sends
// a short decimal number; the bound keeps the endpoint from reflecting
// whatever a caller with the verify token chooses to send.
const MaxChallengeBytes = 256

// challengeProblem says why a handshake's challenge cannot be echoed, or
// returns "" if it can. Without a challenge Meta could not complete the
// subscription, so a 200 with an empty body would only hide the mistake.
func challengeProblem(c string) string {
	switch {
	case c == "":
		return "missing hub.challenge"
	case len(c) > MaxChallengeBytes:
		return fmt.Sprintf("hub.challenge is longer than %d bytes", MaxChallengeBytes)
	}
	for i := 0; i < len(c); i++ {
		// Printable ASCII only: the challenge is reflected, and no
		// control character or markup-bearing byte sequence belongs in it.
		if c[i] < 0x20 || c[i] > 0x7e {
			return "hub.challenge must be printable ASCII"
		}
	}
	return ""
}

func (h *handler) deliver(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.WarnContext(ctx, "webhook refused: body too large",
				"remote", r.RemoteAddr, "limit", h.maxBody)
			h.observe(TooLarge, nil)
			plain(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		h.log.WarnContext(ctx, "webhook refused: reading body failed",
			"remote", r.RemoteAddr, "err", err)
		h.observe(Unreadable, err)
		plain(w, http.StatusBadRequest, "could not read request body")
		return
	}
	if reason := h.checkSignature(r.Header.Get(SignatureHeader), body); reason != "" {
		if r.Header.Get(SignatureHeader) == "" {
			h.observe(MissingSignature, nil)
		} else {
			h.observe(BadSignature, nil)
		}
		// Only the reason: the body is unauthenticated and may carry
		// anything, and the secrets must never reach logs.
		h.log.WarnContext(ctx, "webhook refused: "+reason,
			"remote", r.RemoteAddr, "bytes", len(body))
		plain(w, http.StatusUnauthorized, "invalid signature")
		return
	}
	if h.validate != nil {
		if err := h.validate(body); err != nil {
			reason := shortReason(err)
			h.log.WarnContext(ctx, "webhook refused: invalid payload",
				"remote", r.RemoteAddr, "bytes", len(body), "reason", reason)
			h.observe(Invalid, err)
			plain(w, http.StatusBadRequest, reason)
			return
		}
	}
	if h.acceptor == nil {
		h.log.ErrorContext(ctx, "webhook not accepted: no acceptor configured")
		h.observe(Unavailable, nil)
		plain(w, http.StatusServiceUnavailable, "not accepted, retry later")
		return
	}
	if err := h.acceptor.Accept(ctx, body); err != nil {
		h.log.ErrorContext(ctx, "webhook not accepted",
			"remote", r.RemoteAddr, "bytes", len(body), "err", err)
		h.observe(Unavailable, err)
		plain(w, http.StatusServiceUnavailable, "not accepted, retry later")
		return
	}
	h.observe(Accepted, nil)
	plain(w, http.StatusOK, "ok")
}

// checkSignature returns why header does not authenticate body, or "" if
// it does under any configured secret.
func (h *handler) checkSignature(header string, body []byte) string {
	if header == "" {
		return "missing " + SignatureHeader
	}
	hexSig, ok := strings.CutPrefix(header, sigPrefix)
	if !ok {
		return "malformed " + SignatureHeader + ": no sha256= prefix"
	}
	if len(hexSig) != 2*sha256.Size {
		return "malformed " + SignatureHeader + ": wrong length"
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return "malformed " + SignatureHeader + ": not hex"
	}
	for _, secret := range h.secrets {
		if hmac.Equal(sig, mac(secret, body)) {
			return ""
		}
	}
	return "signature does not match any app secret"
}

// Sign returns the SignatureHeader value Meta would send for body.
func Sign(secret string, body []byte) string {
	return sigPrefix + hex.EncodeToString(mac([]byte(secret), body))
}

func mac(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// shortReason keeps 400 bodies and log lines small whatever the validator
// returns: the first line, at most maxReasonLen bytes, cut on a rune
// boundary.
func shortReason(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > maxReasonLen {
		cut := maxReasonLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		s = "invalid payload"
	}
	return s
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", plainTextType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
