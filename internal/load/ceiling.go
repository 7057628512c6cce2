package load

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ceiling is the durable limit of this machine, served beside the router:
// a bare server that checks the Meta signature and group-commits each body
// to a file with fsync before answering 200, and does nothing else. What
// the router achieves is also reported as a share of it, a figure that
// holds on any machine.
type ceiling struct {
	secret  []byte
	file    *os.File
	appends chan appendReq
	srv     *http.Server
	url     string
	done    chan struct{}
}

type appendReq struct {
	body []byte
	done chan error
}

// maxCeilingBody bounds a body as the router's default max_body_bytes.
const maxCeilingBody = 4 << 20

// startCeiling serves the ceiling on a loopback port, appending to a file
// in dir.
func startCeiling(dir string, secret []byte) (*ceiling, error) {
	f, err := os.OpenFile(filepath.Join(dir, "ceiling.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	c := &ceiling{secret: secret, file: f, appends: make(chan appendReq, 1024), done: make(chan struct{}),
		url: "http://" + ln.Addr().String() + "/webhook"}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go c.commit()
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *ceiling) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCeilingBody+1))
	if err != nil || len(body) > maxCeilingBody {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	given, err := hex.DecodeString(sig)
	mac := hmac.New(sha256.New, c.secret)
	mac.Write(body)
	if !ok || err != nil || !hmac.Equal(given, mac.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	done := make(chan error, 1)
	select {
	case c.appends <- appendReq{body: body, done: done}:
	case <-r.Context().Done():
		return
	}
	if err := <-done; err != nil {
		http.Error(w, "not stored", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// commit writes every append waiting, length-prefixed, in one write and
// one fsync, then answers them all: the group commit the router's store
// does too, without anything else in the transaction.
func (c *ceiling) commit() {
	defer close(c.done)
	var buf []byte
	for first := range c.appends {
		batch := []appendReq{first}
	more:
		for len(batch) < 1024 {
			select {
			case a, ok := <-c.appends:
				if !ok {
					break more
				}
				batch = append(batch, a)
			default:
				break more
			}
		}
		buf = buf[:0]
		for _, a := range batch {
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.body)))
			buf = append(buf, a.body...)
		}
		_, err := c.file.Write(buf)
		if err == nil {
			err = c.file.Sync()
		}
		for _, a := range batch {
			a.done <- err
		}
	}
}

// close stops the server, then the committer, then the file.
func (c *ceiling) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	close(c.appends)
	<-c.done
	_ = c.file.Close()
}

// ceilingReport is what the ceiling took under the same load.
type ceilingReport struct {
	AcceptedPerS float64        `json:"accepted_per_s"`
	Latency      latencySummary `json:"accept_latency"`
	// RouterShare is the router's accepted/s as a share of the ceiling's.
	RouterShare float64 `json:"router_share"`
}

// measureCeiling runs the load's warm-up and duration against the ceiling
// before the router starts, with the same posters or rate.
func (r *run) measureCeiling(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "wabaload-ceiling-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	secret := []byte(randomHex(16))
	c, err := startCeiling(dir, secret)
	if err != nil {
		return err
	}
	defer c.close()
	o := r.o
	t0 := time.Now()
	l := &loader{url: c.url, secret: secret, client: r.client, tmpls: r.tmpls, tr: newTracker(r.tr.base, r.tr.stride), count: o.count,
		warmEnd: t0.Add(o.warmup), deadline: t0.Add(o.warmup + o.duration), lateAfter: 10 * time.Millisecond}
	var stats []*posterStats
	if o.rate > 0 {
		stats = l.openLoop(ctx, o.concurrency, o.rate, t0)
	} else {
		stats = l.closedLoop(ctx, o.concurrency)
	}
	var accepted int64
	var lat []time.Duration
	var lastEnd time.Time
	for _, st := range stats {
		accepted += st.acceptedMeasured
		lat = append(lat, st.latency...)
		if st.lastEnd.After(lastEnd) {
			lastEnd = st.lastEnd
		}
	}
	measured := lastEnd.Sub(t0.Add(o.warmup)).Seconds()
	cr := &ceilingReport{Latency: summarize(lat)}
	if measured > 0 {
		cr.AcceptedPerS = round(float64(accepted)/measured, 1)
	}
	r.rep.Ceiling = cr
	return nil
}
