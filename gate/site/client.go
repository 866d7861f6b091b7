package site

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/facegate/facegate/storage"
)

// Client is a door's connection to its central.
type Client struct {
	base string
	key  ed25519.PrivateKey
	http *http.Client
}

// NewClient checks the central's URL: https, or http to a loopback address
// (a test, or a TLS-terminating proxy on the same host). caPEM, when not
// empty, is the certificate (or CA) the central's TLS certificate must
// chain to instead of the system's roots (a central with its own
// self-signed certificate).
func NewClient(central string, key ed25519.PrivateKey, caPEM []byte) (*Client, error) {
	if err := CheckURL(central); err != nil {
		return nil, err
	}
	hc := &http.Client{}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("central CA: no PEM certificate in it")
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return &Client{base: strings.TrimRight(central, "/"), key: key, http: hc}, nil
}

// CheckURL says what is wrong with a central's URL, if anything.
func CheckURL(central string) error {
	u, err := url.Parse(central)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("central %q: want https://HOST[:PORT] (the central's --sync-listen address)", central)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("central %q: plain http only to a loopback address; use https", central)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// StatusError is an answer other than 2xx, with the central's message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("central answered %d: %s", e.Status, e.Message)
}

// ErrNotJoined: the central does not know this door's key.
var ErrNotJoined = errors.New("this door has not joined the central (run serve with --join TOKEN from `facegate central join-token`)")

// do sends a signed request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, body []byte, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	Sign(req, body, c.key, time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized && strings.Contains(string(b), "not joined") {
		return ErrNotJoined
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{resp.StatusCode, strings.TrimSpace(string(b))}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Appliance is the central's record of this door.
type Appliance = storage.SiteAppliance

// Join registers this door's key with a one-time token.
func (c *Client) Join(ctx context.Context, token string) (Appliance, error) {
	var a Appliance
	body, _ := json.Marshal(map[string]string{"token": token})
	return a, c.do(ctx, http.MethodPost, "/v1/join", body, 30*time.Second, &a)
}

// Hello returns the central's record of this door (ErrNotJoined if none).
func (c *Client) Hello(ctx context.Context) (Appliance, error) {
	var a Appliance
	return a, c.do(ctx, http.MethodGet, "/v1/hello", nil, 30*time.Second, &a)
}

// PageSize is how many people a page of a full pull carries: about
// 3 MB with one 512-D template each.
const PageSize = 1000

// Changes waits up to wait for changes after revision since. When the
// central answers with everything (since -1, or a door ahead of the
// central's database), the answer is the first page of a full pull
// (More: ask FullPage for the rest).
func (c *Client) Changes(ctx context.Context, since int64, wait time.Duration) (storage.SiteChanges, error) {
	var ch storage.SiteChanges
	path := fmt.Sprintf("/v1/changes?since=%d&wait=%d&page=%d", since, wait.Milliseconds(), PageSize)
	return ch, c.do(ctx, http.MethodGet, path, nil, wait+30*time.Second, &ch)
}

// FullPage is the page of a full pull after person after.
func (c *Client) FullPage(ctx context.Context, after int64) (storage.SiteChanges, error) {
	var ch storage.SiteChanges
	path := fmt.Sprintf("/v1/changes?since=-1&wait=0&after=%d&page=%d", after, PageSize)
	return ch, c.do(ctx, http.MethodGet, path, nil, 60*time.Second, &ch)
}

// PutSnapshot uploads one snapshot (a no-op on the central if it has it).
func (c *Client) PutSnapshot(ctx context.Context, hash string, b []byte) error {
	return c.do(ctx, http.MethodPut, "/v1/snapshots/"+hash, b, 60*time.Second, nil)
}

// Push sends a batch; the receipt comes after the central's commit.
func (c *Client) Push(ctx context.Context, p storage.SitePush) (storage.SiteReceipt, error) {
	var r storage.SiteReceipt
	body, err := json.Marshal(p)
	if err != nil {
		return r, err
	}
	return r, c.do(ctx, http.MethodPost, "/v1/events", body, 60*time.Second, &r)
}

// Presence asks for a person's last passage through an area at any door
// of the site (anti-passback), waiting at most timeout.
func (c *Client) Presence(ctx context.Context, person int64, area string, timeout time.Duration) (storage.SitePassage, error) {
	var p storage.SitePassage
	path := fmt.Sprintf("/v1/presence?person=%d&area=%s", person, url.QueryEscape(area))
	return p, c.do(ctx, http.MethodGet, path, nil, timeout, &p)
}

// MaxLiveFrame bounds a live frame: an annotated 640×480 JPEG is 30–60 KB;
// 2 MB allows a 4K camera's and refuses anything else.
const MaxLiveFrame = 2 << 20

// liveAnswer is the central's answer on the live view: whether a viewer
// (still) watches this door.
type liveAnswer struct {
	Watch bool `json:"watch"`
}

// LiveWanted waits up to wait (0: answers at once) for a console viewer
// to open this door's live view, and says whether one has.
func (c *Client) LiveWanted(ctx context.Context, wait time.Duration) (bool, error) {
	var a liveAnswer
	path := fmt.Sprintf("/v1/live/wanted?wait=%d", wait.Milliseconds())
	return a.Watch, c.do(ctx, http.MethodGet, path, nil, wait+30*time.Second, &a)
}

// LiveFrame sends the door's newest annotated frame (JPEG) and says
// whether anyone still watches.
func (c *Client) LiveFrame(ctx context.Context, jpg []byte) (bool, error) {
	var a liveAnswer
	return a.Watch, c.do(ctx, http.MethodPost, "/v1/live/frame", jpg, 10*time.Second, &a)
}

// LiveDecision sends a decision as the door's live page shows it (JSON)
// and says whether anyone still watches.
func (c *Client) LiveDecision(ctx context.Context, decision []byte) (bool, error) {
	var a liveAnswer
	return a.Watch, c.do(ctx, http.MethodPost, "/v1/live/decision", decision, 10*time.Second, &a)
}
