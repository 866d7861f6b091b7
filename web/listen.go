package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Listen opens the listening socket (TLS unless plain HTTP was asked for).
// Plain HTTP is refused on a non-loopback address unless explicitly allowed.
func (s *Server) Listen() (net.Listener, error) {
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen address %q: %w", s.opts.Addr, err)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if s.opts.PlainHTTP && !loopback && !s.opts.AllowPlainLAN {
		return nil, fmt.Errorf("web: plain HTTP on %s would send passwords and faces in clear: use HTTPS (the default), "+
			"listen on 127.0.0.1, or pass --allow-plain-http-lan behind a TLS proxy", s.opts.Addr)
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: %w (is another facegate running? choose another --web-listen)", err)
	}
	if !s.opts.PlainHTTP {
		cert, err := LoadOrCreateCert(s.opts.CertFile, s.opts.KeyFile, s.opts.TLSDir)
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.deps.Log.Info("web app", "url", s.URL(ln.Addr()))
	return ln, nil
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// URL is how to reach the server at addr.
func (s *Server) URL(addr net.Addr) string {
	scheme := "https"
	if s.opts.PlainHTTP {
		scheme = "http"
	}
	a := addr.String()
	if strings.HasPrefix(a, "[::]") || strings.HasPrefix(a, "0.0.0.0") {
		_, port, _ := net.SplitHostPort(a)
		a = "localhost:" + port
	}
	return scheme + "://" + a
}
