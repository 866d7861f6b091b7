package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one e-mail.
type Message struct {
	To        []string
	Subject   string
	Body      string
	MessageID string // stable per alert, so a resent alert can be recognised
	Date      time.Time
}

// Bytes is the message in RFC 5322 form: UTF-8, quoted-printable body,
// the subject encoded when it is not ASCII (Japanese).
func (m Message) Bytes(from string) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", strings.Join(m.To, ", "))
	h("Subject", mime.BEncoding.Encode("UTF-8", m.Subject))
	h("Date", m.Date.Format(time.RFC1123Z))
	if m.MessageID != "" {
		h("Message-ID", m.MessageID)
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// sendTimeout bounds one delivery attempt (connect, TLS, auth, data).
const sendTimeout = 30 * time.Second

// Send delivers m through s: STARTTLS (refused if the server does not
// offer it) or implicit TLS, the server's certificate verified against
// its CA file or the system's roots, then PLAIN authentication when a
// username is set. Nothing goes over the network unencrypted.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if len(m.To) == 0 {
		return errors.New("alerts: a mail without recipients")
	}
	tc, err := s.tlsConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Server)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Server, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *smtp.Client
	if s.TLS == "tls" {
		c = smtp.NewClient(tls.Client(conn, tc))
	} else if c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: STARTTLS: %w", s.Server, err)
	}
	defer c.Close()
	if err := s.transact(c, m); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Server, err)
	}
	return nil
}

// transact authenticates and sends m on an open, encrypted session.
func (s *SMTP) transact(c *smtp.Client, m Message) error {
	if s.Username != "" {
		pw, err := s.Password()
		if err != nil {
			return err
		}
		if err := c.Auth(sasl.NewPlainClient("", s.Username, pw)); err != nil {
			return fmt.Errorf("login as %s: %w", s.Username, err)
		}
	}
	from := s.From
	if a, err := mail.ParseAddress(s.From); err == nil {
		from = a.Address // "facegate <gate@example.org>" in the header, the address alone in MAIL FROM
	}
	if err := c.SendMail(from, m.To, bytes.NewReader(m.Bytes(s.From))); err != nil {
		return err
	}
	return c.Quit()
}

func (s *SMTP) tlsConfig() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(s.Server)
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("alerts: smtp.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("alerts: smtp.ca_file %s: no PEM certificate in it", s.CAFile)
		}
	}
	return tc, nil
}
