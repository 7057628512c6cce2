package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/silences"
	"github.com/wabarouter/wabarouter/internal/store"
)

// silenceForm is the add form as typed.
type silenceForm struct {
	When, For, Comment string
}

// durations are the lengths the add form offers.
var durations = []string{"30m", "1h", "2h", "4h", "8h", "24h", "72h"}

func (c *Console) silencesPage(w http.ResponseWriter, r *http.Request, s session) {
	f := silenceForm{When: r.URL.Query().Get("when"), For: "2h"}
	c.drawSilences(w, r, s, http.StatusOK, f, nil, nil, false)
}

// drawSilences draws the list and the add form, with the preview of what
// the form's silence would hide when previewed is set.
func (c *Console) drawSilences(w http.ResponseWriter, r *http.Request, s session, code int, f silenceForm, problems []string, hits []silences.Hit, previewed bool) {
	all := r.URL.Query().Get("state") == "all"
	views, err := silences.List(r.Context(), c.opts.Store, !all, c.now())
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	c.render(w, r, &s, code, "silences", "Silences", map[string]any{
		"All": all, "Silences": views, "Form": f, "Problems": problems, "Hits": hits, "Previewed": previewed,
		"Durations": durations, "Window": "7 days",
	})
}

func (c *Console) formOf(r *http.Request) silenceForm {
	return silenceForm{When: strings.TrimSpace(r.PostFormValue("when")), For: strings.TrimSpace(r.PostFormValue("for")),
		Comment: strings.TrimSpace(r.PostFormValue("comment"))}
}

// request is the form as a silence request by s's user.
func (f silenceForm) request(user string) (silences.Request, []string) {
	req := silences.Request{When: f.When, Author: user, Comment: f.Comment}
	d, err := time.ParseDuration(f.For)
	if err != nil || d <= 0 {
		return req, []string{fmt.Sprintf("for %q is not a duration such as 2h", f.For)}
	}
	req.For = d
	return req, nil
}

func (c *Console) silencePreview(w http.ResponseWriter, r *http.Request, s session) {
	f := c.formOf(r)
	req, problems := f.request(s.User)
	if _, _, err := silences.Check(req, c.now()); err != nil {
		var inv *silences.Invalid
		if errors.As(err, &inv) {
			problems = append(problems, inv.Problems...)
		}
	}
	hits, err := silences.Preview(r.Context(), c.opts.Store, f.When, c.opts.Config.Accounts, c.now().Add(-silences.PreviewWindow))
	var inv *silences.Invalid
	switch {
	case errors.As(err, &inv):
		// Check told the same problems already.
	case err != nil:
		c.failStore(w, r, &s, err)
		return
	}
	c.drawSilences(w, r, s, http.StatusOK, f, problems, hits, err == nil)
}

func (c *Console) silenceAdd(w http.ResponseWriter, r *http.Request, s session) {
	f := c.formOf(r)
	req, problems := f.request(s.User)
	if problems != nil {
		c.drawSilences(w, r, s, http.StatusBadRequest, f, problems, nil, false)
		return
	}
	var saved store.Silence
	st := &auditedStore{Store: c.opts.Store, now: c.now, saved: &saved,
		action: Action{User: s.User, Role: s.Role, Action: ActionSilenceAdd}}
	sil, _, err := silences.Add(r.Context(), st, req, c.now())
	var inv *silences.Invalid
	switch {
	case errors.As(err, &inv):
		c.drawSilences(w, r, s, http.StatusBadRequest, f, inv.Problems, nil, false)
		return
	case err != nil:
		c.failStore(w, r, &s, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: silence added", "user", s.User, "silence", sil.ID, "when", sil.When, "ends", sil.EndsAt)
	http.Redirect(w, r, Prefix+"silences?done="+url.QueryEscape("Silence "+sil.ID+" added until "+stamp(sil.EndsAt)+"."), http.StatusSeeOther)
}

func (c *Console) silenceExpire(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	st := &auditedStore{Store: c.opts.Store, now: c.now, action: Action{User: s.User, Role: s.Role, Action: ActionSilenceExpire, Target: id}}
	sil, err := silences.Expire(r.Context(), st, id, c.now())
	switch {
	case errors.Is(err, silences.ErrNotFound):
		c.fail(w, r, &s, http.StatusNotFound, err)
		return
	case errors.Is(err, silences.ErrEnded):
		c.fail(w, r, &s, http.StatusConflict, err)
		return
	case err != nil:
		c.failStore(w, r, &s, err)
		return
	}
	c.log.InfoContext(r.Context(), "console: silence expired", "user", s.User, "silence", sil.ID)
	http.Redirect(w, r, Prefix+"silences?done="+url.QueryEscape("Silence "+sil.ID+" expired: what it held goes out now."), http.StatusSeeOther)
}
