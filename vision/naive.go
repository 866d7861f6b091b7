package vision

import (
	"context"
	"errors"
	"time"

	"gocv.io/x/gocv"
)

// NaiveResult is what the naive loop did.
type NaiveResult struct {
	Frames  int
	Faces   int
	Elapsed time.Duration
}

// FPS of the naive loop.
func (n NaiveResult) FPS() float64 {
	if n.Elapsed <= 0 {
		return 0
	}
	return float64(n.Frames) / n.Elapsed.Seconds()
}

// RunNaive is the loop go-face's and face_recognition's examples use: every
// full frame encoded and handed to go-face's Recognize (HOG over the whole
// frame, then landmarks and a descriptor per face), then matched. It exists
// only as the baseline `facegate bench` compares the pipeline with.
func RunNaive(ctx context.Context, src Source, rec *Recognizer, g *Gallery) (NaiveResult, error) {
	var res NaiveResult
	frame := gocv.NewMat()
	defer frame.Close()
	start := time.Now()
	for {
		if _, _, err := src.Read(ctx, &frame); err != nil {
			res.Elapsed = time.Since(start)
			if errors.Is(err, ErrSourceEnded) {
				return res, nil
			}
			return res, err
		}
		jpg, err := encodeJPEG(frame)
		if err != nil {
			return res, err
		}
		rec.mu.Lock()
		fs, err := rec.rec.Recognize(jpg)
		rec.mu.Unlock()
		if err != nil {
			return res, err
		}
		for _, f := range fs {
			g.Match(Descriptor(f.Descriptor[:]))
		}
		res.Frames++
		res.Faces += len(fs)
	}
}
