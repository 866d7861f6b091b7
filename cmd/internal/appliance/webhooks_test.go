package appliance

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// Issue 14, webhooks: Run delivers the door's events to a subscription
// made while it runs (as `facegate webhook add` does from another
// process): a decision on the demo clip and a door event, signed.
func TestRunDeliversWebhooks(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		DemoDir: modeltest.Testdata(t), Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"),
		OpenTime: time.Second, SiteTZ: "Asia/Tokyo", Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const secret = "appliance-test-secret-0123456789"
	var mu sync.Mutex
	got := map[string]notify.Payload{}
	rc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify(secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), notify.DefaultTolerance); err != nil {
			t.Errorf("delivery: %v", err)
		}
		var p notify.Payload
		json.Unmarshal(body, &p)
		mu.Lock()
		got[p.Kind] = p
		mu.Unlock()
	}))
	defer rc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	// The receiver's certificate is from a private CA, which the subscription names.
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate().Raw}))
	if _, err := a.db.AddWebhook(storage.Webhook{URL: rc.URL + "/hook", Secret: secret, Enabled: true, CACert: ca}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.recorder.Record(storage.Event{Kind: storage.KindDoorForced, Door: "front", Reason: "forced"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		forced, okF := got[storage.KindDoorForced]
		_, okG := got[storage.KindGranted]
		_, okD := got[storage.KindDenied]
		mu.Unlock()
		if okF && (okG || okD) {
			if forced.Door != "front" || forced.TimeLocal[len(forced.TimeLocal)-6:] != "+09:00" {
				t.Errorf("door_forced payload %+v", forced)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 90 s: door_forced %v, a decision %v", okF, okG || okD)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
