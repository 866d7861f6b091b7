package vision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gocv.io/x/gocv"
)

// ErrSourceEnded is returned by EachFrame when a non-looping file ends.
var ErrSourceEnded = errors.New("video source ended")

// EachFrame reads a video file frame by frame at its native frame rate
// (as a camera would deliver it), hands each frame to fn as JPEG, and loops
// at the end when loop is set. Frames that arrive while fn is busy are
// dropped: fn always sees the latest frame, never a queue.
//
// This is the simple source `serve` uses until the real pipeline lands.
func EachFrame(ctx context.Context, path string, loop bool, fn func(frame int, jpg []byte) error) error {
	vc, err := gocv.OpenVideoCapture(path)
	if err != nil {
		return fmt.Errorf("open video %s: %w", path, err)
	}
	defer vc.Close()
	if !vc.IsOpened() {
		return fmt.Errorf("open video %s: not a readable video (check the path and that ffmpeg is installed)", path)
	}
	fps := vc.Get(gocv.VideoCaptureFPS)
	if fps <= 0 || fps > 240 {
		fps = 30
	}
	period := time.Duration(float64(time.Second) / fps)
	frame := gocv.NewMat()
	defer frame.Close()
	start := time.Now()
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !vc.Read(&frame) || frame.Empty() {
			if !loop || n == 0 {
				if n == 0 {
					return fmt.Errorf("video %s: no frames could be decoded", path)
				}
				return ErrSourceEnded
			}
			vc.Set(gocv.VideoCapturePosFrames, 0)
			start, n = time.Now(), 0
			continue
		}
		n++
		due := start.Add(time.Duration(n) * period)
		if now := time.Now(); now.Before(due) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(due.Sub(now)):
			}
		} else if now.Sub(due) > period {
			continue // behind: drop this frame, keep only the latest
		}
		jpg, err := encodeJPEG(frame)
		if err != nil {
			return err
		}
		if err := fn(n, jpg); err != nil {
			return err
		}
	}
}
