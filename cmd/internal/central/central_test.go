package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// newTestCentral is a one-box central (SQLite) behind a loopback server.
func newTestCentral(t *testing.T) (*Central, string) {
	dir := t.TempDir()
	c, err := Open(Config{DataDir: dir, DB: filepath.Join(dir, "central.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.revs.run(ctx)
	srv := httptest.NewServer(c.routes())
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// A door joins once with its token, is known by its key from then on,
// and a change on the central ends its long poll at once.
func TestJoinAndLongPoll(t *testing.T) {
	c, url := newTestCentral(t)
	_, key, _ := ed25519.GenerateKey(nil)
	cl, err := site.NewClient(url, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cl.Hello(ctx); !errors.Is(err, site.ErrNotJoined) {
		t.Fatalf("hello before joining: %v, want ErrNotJoined", err)
	}
	var se *site.StatusError
	if _, err := cl.Join(ctx, "not-a-token"); !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("join with a wrong token: %v, want 403", err)
	}
	tok, _ := c.db.NewOneTimeLink(storage.JoinPurpose, "front", time.Now().Add(time.Hour), "test")
	a, err := cl.Join(ctx, tok)
	if err != nil || a.Door != "front" {
		t.Fatalf("join: %+v %v", a, err)
	}
	if a2, err := cl.Hello(ctx); err != nil || a2.ID != a.ID {
		t.Fatalf("hello after joining: %+v %v", a2, err)
	}
	ch, err := cl.Changes(ctx, -1, time.Second)
	if err != nil || !ch.Full {
		t.Fatalf("first pull: %+v %v", ch, err)
	}
	// Nothing changes: the poll waits its time and says so.
	start := time.Now()
	if ch2, err := cl.Changes(ctx, ch.Rev, 500*time.Millisecond); err != nil || !ch2.Empty() || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("idle poll: %+v %v after %v", ch2, err, time.Since(start))
	}
	time.AfterFunc(300*time.Millisecond, func() {
		c.db.Enroll("E-1", "Ada", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m"}})
	})
	ch3, err := cl.Changes(ctx, ch.Rev, 20*time.Second)
	if err != nil || len(ch3.People) != 1 || ch3.People[0].Person.EmployeeID != "E-1" || len(ch3.People[0].Templates) != 1 {
		t.Fatalf("poll across an enrolment: %+v %v", ch3, err)
	}
	// A push is acknowledged with the central's head.
	r, err := cl.Push(ctx, storage.SitePush{})
	if err != nil || r.HeadSeq != 0 {
		t.Fatalf("heartbeat push: %+v %v", r, err)
	}
	if err := cl.PutSnapshot(ctx, "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", []byte("y")); !errors.As(err, &se) || se.Status != 400 {
		t.Fatal("a snapshot under another hash was accepted")
	}
	// Revoked: refused, even with a new token.
	if n, err := c.db.RevokeAppliances("front", time.Now()); err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	if _, err := cl.Hello(ctx); !errors.As(err, &se) || se.Status != 403 || !strings.Contains(se.Message, "revoked") {
		t.Fatalf("hello after revocation: %v, want 403 revoked", err)
	}
	tok2, _ := c.db.NewOneTimeLink(storage.JoinPurpose, "front", time.Now().Add(time.Hour), "test")
	if _, err := cl.Join(ctx, tok2); !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("a revoked key joining again: %v, want 403", err)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns
// their paths and the certificate's PEM.
func selfSigned(t *testing.T) (certFile, keyFile string, certPEM []byte) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "central"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(priv)
	dir := t.TempDir()
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	return certFile, keyFile, certPEM
}

// The sync API over TLS with the central's own certificate; plain HTTP is
// refused off loopback.
func TestSyncOverTLS(t *testing.T) {
	cert, key, certPEM := selfSigned(t)
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	c, err := Open(Config{DataDir: dir, DB: filepath.Join(dir, "central.db"), SyncListen: addr, SyncCert: cert, SyncKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	_, dkey, _ := ed25519.GenerateKey(nil)
	cl, err := site.NewClient("https://"+addr, dkey, certPEM)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, err = cl.Hello(ctx); !errors.Is(err, site.ErrNotJoined) && time.Now().Before(deadline); _, err = cl.Hello(ctx) {
		time.Sleep(50 * time.Millisecond)
	}
	if !errors.Is(err, site.ErrNotJoined) {
		t.Fatalf("hello over TLS: %v, want the central's answer (not joined)", err)
	}
	open, err := Open(Config{DataDir: dir, DB: filepath.Join(dir, "central.db"), SyncListen: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := open.Run(ctx); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("plain HTTP on all addresses: %v, want refused", err)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// Enrol once, in the console: the central's web app enrols from a photo
// through its JSON API, and the person is in the next pull of every door.
func TestConsoleEnrolsForEveryDoor(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	c, err := Open(Config{DataDir: dir, DB: filepath.Join(dir, "central.db"), SyncListen: "127.0.0.1:" + freePort(t),
		Web: web.Options{Addr: "127.0.0.1:" + port, PlainHTTP: true}, ModelsDir: modeltest.ModelsDir(t), Embedder: vision.DefaultEmbedderName})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := c.db.CreateUser("site-admin", "correct horse battery staple 42", "admin"); err != nil {
		t.Fatal(err)
	}
	tok, err := c.db.NewAPIToken("site-admin", "test", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("employee_id", "E-LMM")
	mw.WriteField("name", "Lin-Manuel Miranda")
	fw, _ := mw.CreateFormFile("photos", "lmm.png")
	fw.Write(modeltest.ReadFace(t, "lin-manuel-miranda.png"))
	mw.Close()
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+port+"/api/v1/people", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enrol through the console: %d %s", resp.StatusCode, msg)
	}
	ch, err := c.db.SiteChangesSince(-1)
	if err != nil || len(ch.People) != 1 || ch.People[0].Person.EmployeeID != "E-LMM" || len(ch.People[0].Templates) == 0 {
		t.Fatalf("the doors' next pull: %+v %v", ch, err)
	}
}

// A first pull comes in pages of site.PageSize people, each answered at
// once (no long poll); a door that does not ask for pages gets everything
// in one answer, as before pages existed.
func TestFullPullInPages(t *testing.T) {
	c, url := newTestCentral(t)
	_, key, _ := ed25519.GenerateKey(nil)
	cl, _ := site.NewClient(url, key, nil)
	ctx := context.Background()
	tok, _ := c.db.NewOneTimeLink(storage.JoinPurpose, "front", time.Now().Add(time.Hour), "test")
	if _, err := cl.Join(ctx, tok); err != nil {
		t.Fatal(err)
	}
	n := site.PageSize + 1
	for i := range n {
		if _, err := c.db.Enroll(fmt.Sprintf("E-%d", i), "P", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m"}}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := cl.Changes(ctx, -1, 20*time.Second)
	if err != nil || !first.Full || !first.More || len(first.People) != site.PageSize || first.Policy == nil {
		t.Fatalf("first page: %d people, more %v, policy %v, %v", len(first.People), first.More, first.Policy != nil, err)
	}
	last, err := cl.FullPage(ctx, first.Next)
	if err != nil || last.More || len(last.People) != 1 || last.People[0].Person.EmployeeID != fmt.Sprintf("E-%d", n-1) || last.Policy != nil {
		t.Fatalf("last page: %+v %v", last, err)
	}
	var se *site.StatusError
	if _, err := cl.FullPage(ctx, -5); !errors.As(err, &se) || se.Status != 400 || !strings.Contains(se.Message, "after") {
		t.Fatalf("a page after -5: %v, want 400 naming after", err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/changes?since=-1&wait=0", nil)
	site.Sign(req, nil, key, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var whole storage.SiteChanges
	if err := json.NewDecoder(resp.Body).Decode(&whole); err != nil || !whole.Full || whole.More || len(whole.People) != n {
		t.Fatalf("without pages: %d people, more %v, %v", len(whole.People), whole.More, err)
	}
}

// The site's model switch happens on the central, which keeps the
// enrolment photos: started with another --embedder, it re-derives every
// template (a model_switch event in its log) and the doors' next pull
// carries the new ones.
func TestCentralSwitchesModel(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, DB: filepath.Join(dir, "central.db"), Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true},
		ModelsDir: modeltest.ModelsDir(t), Embedder: vision.EmbedderDlib}
	c, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := vision.OpenEmbedder(cfg.ModelsDir, vision.EmbedderDlib)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := identity.New(c.db, emb, vision.DefaultRuleFor(vision.EmbedderDlib))
	if err != nil {
		t.Fatal(err)
	}
	svc.Photos = c.snaps
	ph, err := identity.ReadPhoto(modeltest.Face(t, "lin-manuel-miranda.png"))
	if err == nil {
		_, err = svc.EnrollConfirmed("E-LMM", "Lin-Manuel Miranda", []identity.Photo{ph}, nil)
	}
	emb.Close()
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := c.db.SiteRevision()
	c.Close()

	cfg.Embedder = vision.DefaultEmbedderName
	if c, err = Open(cfg); err != nil {
		t.Fatalf("the central with another embedder: %v", err)
	}
	defer c.Close()
	ch, err := c.db.SiteChangesSince(rev)
	if err != nil || len(ch.People) != 1 || len(ch.People[0].Templates) != 1 {
		t.Fatalf("the doors' next pull after the switch: %+v %v", ch, err)
	}
	if got := ch.People[0].Templates[0].ModelVersion; got == "" || strings.Contains(got, "dlib") {
		t.Fatalf("template of model %q after the switch to %s", got, cfg.Embedder)
	}
	evs, err := c.db.Events(storage.EventFilter{Kind: storage.KindModelSwitch})
	if err != nil || len(evs) != 1 {
		t.Fatalf("model_switch events: %d %v", len(evs), err)
	}
}
