package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts bound what a slow or hostile client can hold open.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	// ShutdownTimeout bounds how long in-flight requests may delay exit.
	ShutdownTimeout = 10 * time.Second
)

// Server serves the webhook handler at /webhook and a health check at
// /healthz.
type Server struct {
	addr  string
	mux   *http.ServeMux
	http  *http.Server
	log   *slog.Logger
	ready chan struct{}
	start sync.Once
	bound string // written once before ready is closed
}

// Handle adds a route, such as /metrics; call it before Run.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// NewServer returns a server that will listen on addr when Run is called.
// A nil logger discards.
func NewServer(addr string, h http.Handler, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	return &Server{
		addr: addr,
		mux:  mux,
		log:  logger,
		http: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		ready: make(chan struct{}),
	}
}

// Ready is closed once the server is listening and Addr is valid.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the bound address, or "" before the server is listening.
func (s *Server) Addr() string {
	select {
	case <-s.ready:
		return s.bound
	default:
		return ""
	}
}

// Run listens, serves until ctx is cancelled, then shuts down gracefully
// within ShutdownTimeout. It returns nil after a clean shutdown. Run may be
// called only once.
func (s *Server) Run(ctx context.Context) error {
	first := false
	s.start.Do(func() { first = true })
	if !first {
		return errors.New("app: Server.Run called more than once")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	s.bound = ln.Addr().String()
	// Log before signalling ready so anyone woken by Ready finds the line.
	s.log.InfoContext(ctx, "listening", "addr", s.bound)
	close(s.ready)

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(ln) }()

	select {
	case err := <-serveErr:
		// Serve only returns early on a listener failure.
		return fmt.Errorf("serve on %s: %w", s.bound, err)
	case <-ctx.Done():
	}

	s.log.InfoContext(ctx, "shutting down", "addr", s.bound)
	// The parent ctx is already done; keep its values but not its
	// cancellation, so in-flight requests get their grace period.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	shutdownErr := s.http.Shutdown(sctx)
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", s.bound, err)
	}
	if shutdownErr != nil {
		_ = s.http.Close()
		return fmt.Errorf("graceful shutdown of %s: %w", s.bound, shutdownErr)
	}
	s.log.InfoContext(ctx, "stopped", "addr", s.bound)
	return nil
}
