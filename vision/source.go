package vision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// ErrSourceEnded is returned by Read when a non-looping file or folder ends.
var ErrSourceEnded = errors.New("video source ended")

// Source state, for /healthz and the live page.
type SourceState string

const (
	SourceConnecting   SourceState = "connecting"
	SourceStreaming    SourceState = "streaming"
	SourceReconnecting SourceState = "reconnecting"
	SourceEnded        SourceState = "ended"
	SourceClosed       SourceState = "closed"
)

// SourceStatus is a snapshot of a source's health.
type SourceStatus struct {
	Name       string      `json:"name"`
	State      SourceState `json:"state"`
	Frames     int64       `json:"frames"`
	Reconnects int64       `json:"reconnects"`
	LastError  string      `json:"last_error,omitempty"`
	LastFrame  time.Time   `json:"last_frame"`
}

// Source delivers frames. The pipeline does not care what is behind it.
type Source interface {
	// Read copies the newest frame not yet returned into dst and returns
	// its sequence number and capture time. It blocks until one exists.
	// io.EOF-like ErrSourceEnded when a non-looping file ends.
	Read(ctx context.Context, dst *gocv.Mat) (seq int64, at time.Time, err error)
	Status() SourceStatus
	Close() error
	// FPS is the source's nominal frame rate (0 if unknown).
	FPS() float64
}

// Reconnect backoff: the first retry is quick (a USB camera re-enumerates
// in ~100 ms), later ones back off so a dead RTSP server is not hammered.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// capture is what a grabber reads from; gocv.VideoCapture and the folder
// reader implement it, and tests inject failing ones.
type capture interface {
	Read(m *gocv.Mat) bool
	Close() error
	FPS() float64
}

type opener func() (capture, error)

// SourceOptions says how to read a source.
type SourceOptions struct {
	// Paced delivers a file at its native frame rate, as a camera would;
	// otherwise files are read as fast as the consumer takes them.
	Paced bool
	// Loop restarts a file or folder at its end.
	Loop bool
}

// OpenSource opens a source from a spec: "" (first V4L2 camera), a device
// path /dev/videoN or index N, an rtsp:// or http(s):// URL (ffmpeg, TCP),
// a directory of images, or a video file.
func OpenSource(spec string, opts SourceOptions) (Source, error) {
	live := false
	var open opener
	name := spec
	switch {
	case spec == "":
		devs, _ := filepath.Glob("/dev/video*")
		if len(devs) == 0 {
			return nil, errors.New("no camera: no /dev/video* device (pass --source FILE, DIR or URL)")
		}
		slices.Sort(devs)
		name, spec = devs[0], devs[0]
		fallthrough
	case strings.HasPrefix(spec, "/dev/video") || isIndex(spec):
		live = true
		dev := spec
		open = func() (capture, error) {
			var v any = dev
			if n, err := strconv.Atoi(dev); err == nil {
				v = n
			}
			vc, err := gocv.OpenVideoCaptureWithAPI(v, gocv.VideoCaptureV4L2)
			return wrapVC(vc, err, dev)
		}
	case strings.HasPrefix(spec, "rtsp://") || strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		live = true
		// OpenCV's ffmpeg backend reads its options from the environment;
		// TCP avoids the smeared frames UDP gives on a lossy LAN.
		os.Setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
		url := spec
		open = func() (capture, error) {
			vc, err := gocv.OpenVideoCaptureWithAPI(url, gocv.VideoCaptureFFmpeg)
			return wrapVC(vc, err, redactURL(url))
		}
		name = redactURL(spec)
	default:
		st, err := os.Stat(spec)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", spec, err)
		}
		if st.IsDir() {
			open = func() (capture, error) { return openFolder(spec) }
		} else {
			path := spec
			open = func() (capture, error) {
				vc, err := gocv.OpenVideoCaptureWithAPI(path, gocv.VideoCaptureFFmpeg)
				return wrapVC(vc, err, path)
			}
		}
	}
	return newGrabSource(name, open, live, opts), nil
}

func isIndex(s string) bool { _, err := strconv.Atoi(s); return err == nil }

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "***@" + u[i+1:]
		}
	}
	return u
}

type vcCapture struct{ vc *gocv.VideoCapture }

func wrapVC(vc *gocv.VideoCapture, err error, name string) (capture, error) {
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if !vc.IsOpened() {
		vc.Close()
		return nil, fmt.Errorf("open %s: cannot be opened (unplugged, wrong path, or no ffmpeg support)", name)
	}
	return vcCapture{vc}, nil
}

func (c vcCapture) Read(m *gocv.Mat) bool { return c.vc.Read(m) && !m.Empty() }
func (c vcCapture) Close() error          { return c.vc.Close() }
func (c vcCapture) FPS() float64          { return c.vc.Get(gocv.VideoCaptureFPS) }

// folderCapture reads a directory's images in name order.
type folderCapture struct {
	files []string
	i     int
}

func openFolder(dir string) (capture, error) {
	var files []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("folder %s holds no .jpg or .png images", dir)
	}
	slices.Sort(files)
	return &folderCapture{files: files}, nil
}

func (f *folderCapture) Read(m *gocv.Mat) bool {
	for f.i < len(f.files) {
		p := f.files[f.i]
		f.i++
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		d, err := decodeImage(p, b)
		if err != nil {
			continue // an unreadable image is skipped, not fatal
		}
		d.mat.CopyTo(m)
		d.mat.Close()
		return true
	}
	return false
}
func (f *folderCapture) Close() error { return nil }
func (f *folderCapture) FPS() float64 { return 0 }

// grabSource runs a capture. Live or paced sources are read by a background
// grabber that keeps only the latest frame; unpaced files are read on
// demand so that every frame is processed.
type grabSource struct {
	name  string
	open  opener
	live  bool
	opts  SourceOptions
	fps   float64
	sleep func(context.Context, time.Duration) bool

	mu      sync.Mutex
	cond    *sync.Cond
	latest  gocv.Mat
	seq     int64
	at      time.Time
	taken   int64
	status  SourceStatus
	cancel  context.CancelFunc
	done    chan struct{}
	cap     capture // on-demand mode only
	backoff time.Duration
}

func newGrabSource(name string, open opener, live bool, opts SourceOptions) *grabSource {
	s := &grabSource{name: name, open: open, live: live, opts: opts, latest: gocv.NewMat(),
		status: SourceStatus{Name: name, State: SourceConnecting}, sleep: sleepCtx, backoff: backoffMin}
	s.cond = sync.NewCond(&s.mu)
	if live || opts.Paced {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel, s.done = cancel, make(chan struct{})
		go s.grab(ctx)
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *grabSource) setState(st SourceState, err error) {
	s.mu.Lock()
	s.status.State = st
	if err != nil {
		s.status.LastError = err.Error()
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

// connect opens the capture, retrying with backoff until ctx ends.
func (s *grabSource) connect(ctx context.Context) (capture, bool) {
	for {
		c, err := s.open()
		if err == nil {
			s.backoff = backoffMin
			if f := c.FPS(); f > 0 && f < 240 {
				s.mu.Lock()
				s.fps = f
				s.mu.Unlock()
			}
			s.setState(SourceStreaming, nil)
			return c, true
		}
		s.mu.Lock()
		s.status.Reconnects++
		s.mu.Unlock()
		s.setState(SourceReconnecting, err)
		if !s.sleep(ctx, s.backoff) {
			return nil, false
		}
		s.backoff = min(2*s.backoff, backoffMax)
	}
}

func (s *grabSource) grab(ctx context.Context) {
	defer close(s.done)
	frame := gocv.NewMat()
	defer frame.Close()
	for {
		c, ok := s.connect(ctx)
		if !ok {
			return
		}
		start, n := time.Now(), 0
		for ctx.Err() == nil {
			if !c.Read(&frame) {
				break
			}
			n++
			if s.opts.Paced && !s.live {
				if f := s.FPS(); f > 0 {
					if d := time.Until(start.Add(time.Duration(float64(n) / f * float64(time.Second)))); d > 0 && !s.sleep(ctx, d) {
						break
					}
				}
			}
			s.publish(&frame)
		}
		c.Close()
		if ctx.Err() != nil {
			return
		}
		if !s.live && !s.opts.Loop {
			s.setState(SourceEnded, nil)
			return
		}
		if s.live {
			s.mu.Lock()
			s.status.Reconnects++
			s.mu.Unlock()
			s.setState(SourceReconnecting, errors.New("stream dropped"))
			if !s.sleep(ctx, s.backoff) {
				return
			}
			s.backoff = min(2*s.backoff, backoffMax)
		}
	}
}

func (s *grabSource) publish(frame *gocv.Mat) {
	s.mu.Lock()
	frame.CopyTo(&s.latest)
	s.seq++
	s.at = time.Now()
	s.status.Frames++
	s.status.LastFrame = s.at
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *grabSource) Read(ctx context.Context, dst *gocv.Mat) (int64, time.Time, error) {
	if s.done == nil {
		return s.readOnDemand(ctx, dst)
	}
	stop := context.AfterFunc(ctx, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.seq <= s.taken {
		if err := ctx.Err(); err != nil {
			return 0, time.Time{}, err
		}
		if s.status.State == SourceEnded {
			return 0, time.Time{}, ErrSourceEnded
		}
		if s.status.State == SourceClosed {
			return 0, time.Time{}, errors.New("source closed")
		}
		s.cond.Wait()
	}
	s.latest.CopyTo(dst)
	s.taken = s.seq
	return s.seq, s.at, nil
}

func (s *grabSource) readOnDemand(ctx context.Context, dst *gocv.Mat) (int64, time.Time, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, time.Time{}, err
		}
		if s.cap == nil {
			c, ok := s.connect(ctx)
			if !ok {
				return 0, time.Time{}, ctx.Err()
			}
			s.cap = c
		}
		if s.cap.Read(dst) {
			s.mu.Lock()
			s.seq++
			s.at = time.Now()
			s.status.Frames++
			s.status.LastFrame = s.at
			seq, at := s.seq, s.at
			s.mu.Unlock()
			return seq, at, nil
		}
		s.cap.Close()
		s.cap = nil
		if !s.opts.Loop {
			s.setState(SourceEnded, nil)
			return 0, time.Time{}, ErrSourceEnded
		}
	}
}

func (s *grabSource) Status() SourceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *grabSource) FPS() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fps
}

func (s *grabSource) Close() error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.mu.Lock()
	if s.cap != nil {
		s.cap.Close()
		s.cap = nil
	}
	s.status.State = SourceClosed
	s.latest.Close()
	s.mu.Unlock()
	s.cond.Broadcast()
	return nil
}
