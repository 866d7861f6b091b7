package vision

import (
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/vision/internal/dwconv"
)

// netLoadMu serialises net loading: the narrow depthwise layer is
// registered in OpenCV's process-wide layer factory only while one net loads.
var netLoadMu sync.Mutex

// readNetONNX loads an ONNX net. With narrowDepthwise, its 3×3 depthwise
// convolutions on inputs under 18 px run internal/dwconv's loop instead of
// OpenCV 4.6's im2row fallback (same weights and activation, float-noise
// differences). One core, CPU-time medians of 10 runs: fr_feature 11.5 →
// 8.4 ms, fr_landmark's two passes 3.4 → 1.8 ms, a describe 15.9 → 11.2 ms;
// fr_detect 6.8 → 6.5 ms a frame (6 runs).
func readNetONNX(path string, narrowDepthwise bool) (gocv.Net, error) {
	netLoadMu.Lock()
	defer netLoadMu.Unlock()
	if narrowDepthwise {
		if err := dwconv.Register(); err != nil {
			return gocv.Net{}, err
		}
		defer dwconv.Unregister()
	}
	return gocv.ReadNetFromONNX(path), nil
}
