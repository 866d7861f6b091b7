package central

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/web"
)

var _ web.Site = siteView{} // the console's view of the site

// The central's console shows a door that joined and pushed over the
// sync API: on the doors page (online, its camera and relay, nothing
// behind) and in the entries, which the central holds for it.
func TestConsoleShowsPushingDoor(t *testing.T) {
	dir := t.TempDir()
	port, syncPort := freePort(t), freePort(t)
	c, err := Open(Config{DataDir: dir, DB: filepath.Join(dir, "central.db"), SyncListen: "127.0.0.1:" + syncPort,
		Web: web.Options{Addr: "127.0.0.1:" + port, PlainHTTP: true}})
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
	tok, _ := c.db.NewAPIToken("site-admin", "test", time.Now().Add(time.Hour))
	// A door's own database, joined with a token from the console's view.
	door, err := storage.Open(filepath.Join(dir, "door.db"), storage.Options{KeyDir: filepath.Join(dir, "door-keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer door.Close()
	join, _, err := siteView{c.db, time.Minute}.NewJoinToken("front", "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := site.NewClient("http://127.0.0.1:"+syncPort, door.Keys.Signing, nil)
	var joinErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, joinErr = cl.Join(ctx, join); joinErr == nil {
			break
		}
	}
	if joinErr != nil {
		t.Fatal(joinErr)
	}
	door.Append(storage.Event{Kind: storage.KindDenied, Door: "front", Reason: "face not recognised", AtMicro: time.Now().UnixMicro()})
	evs, _ := door.ChainAfter(0, 10)
	head, _ := door.Head()
	if _, err := cl.Push(ctx, storage.SitePush{Events: evs, Head: head, Status: &storage.DoorStatus{Camera: "streaming", Relay: "locked"}}); err != nil {
		t.Fatal(err)
	}
	page := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	row := regexp.MustCompile(`(?s)<tr class="(\w+)" data-door="front">(.*?)</tr>`).FindStringSubmatch(page("/doors"))
	if row == nil || row[1] != "online" || !strings.Contains(row[2], "streaming") || !strings.Contains(row[2], "locked") {
		t.Fatalf("the front door on the doors page: %q", row)
	}
	if entries := page("/entries?door=front"); !strings.Contains(entries, "<td>front</td>") {
		t.Fatalf("the front door's entry on the central:\n%s", entries)
	}
}
