package main

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

const siteChildEnv = "FACEGATE_SITE_CHILD"

// TestSiteChild runs one facegate command (a central or a door) for
// TestSite, which kill -9s it at random moments.
func TestSiteChild(t *testing.T) {
	spec := os.Getenv(siteChildEnv)
	if spec == "" {
		t.Skip("helper process for TestSite")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		os.Exit(4)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, args, os.Stdout, os.Stderr); err != nil {
		os.Stderr.WriteString("facegate: " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Exit(0)
}

// child is a facegate process the test starts, kills and starts again.
type child struct {
	t    testing.TB
	name string
	args []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	runs int
}

func newChild(t testing.TB, dir, name string, args ...string) *child {
	c := &child{t: t, name: name, args: args, log: filepath.Join(dir, name+".log")}
	t.Cleanup(c.kill)
	return c
}

func (c *child) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return
	}
	spec, _ := json.Marshal(c.args)
	f, err := os.OpenFile(c.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSiteChild$")
	cmd.Env = append(os.Environ(), siteChildEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	f.Close()
	c.cmd = cmd
	c.runs++
}

// kill is kill -9.
func (c *child) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	c.cmd = nil
}

func (c *child) logText() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// proxy is the network between a door and the central: a loopback TCP
// forwarder the test cuts (every connection closed, new ones refused) and
// restores.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(in)
	}
}

func (p *proxy) forward(in net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		p.mu.Unlock()
		in.Close()
		return
	}
	p.conns[in], p.conns[out] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(a, b net.Conn) { io.Copy(a, b); a.Close(); b.Close(); done <- struct{}{} }
	go pipe(in, out)
	go pipe(out, in)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// faceless is a camera that sees an empty corridor: a door on it records
// nothing new, so its chain can be drained to the central and compared.
func faceless(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "corridor")
	os.MkdirAll(dir, 0o700)
	img := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	img.Set(0, 0, color.Gray{Y: 0})
	f, err := os.Create(filepath.Join(dir, "empty.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// eventually polls cond every 100 ms until it holds or within passes.
func eventually(within time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), cond()
}
