// Package vision turns camera frames and photos into decisions about faces:
// who this is, or that it is nobody enrolled.
//
// Images (image.go) are checked before any pixel is decoded (size, format
// by magic bytes, declared dimensions) and decoded to upright BGR at working
// size (large JPEGs by libjpeg's scaled decode, large PNGs row by row in
// pngreduce.go; at most two decodes at once); an unusable one is an
// *ImageError that names it and says what to do.
//
// Sources (source.go): OpenSource opens a V4L2 camera, an RTSP or HTTP
// stream, a video file or a folder of images. Live and paced sources are
// read by a grabber that keeps only the newest frame (a busy pipeline skips
// frames, it never queues them) and reconnects with backoff; Status feeds
// /healthz.
//
// Detection (detect.go): a FaceDetector proposes boxes per frame — the
// faceplugin model's fr_detect net (NetDetector, serve's default), or
// OpenCV's LBP frontal cascade on a 320 px grey frame (4.9 ms a frame on
// the demo clip). BlazeFace (blazeface.go, MediaPipe's model fetched by
// models.FetchBlazeFace) is a FaceDetector for measurement only
// (TestDetectorFigures), as is dlib's MMOD through go-face (TestMMODFigures).
//
// Tracking (track.go): detections continue tracks by greedy box overlap;
// a track is described until it is decided, an "unknown" one is retried
// after 0.5 s, a granted one never again.
//
// Quality gate (pipeline.go): before a descriptor is paid for, faces under
// MinFaceWidth or MinSharpness are skipped; after it, faces turned past
// MaxYaw cast no vote. Skips are counted by reason in Stats.
//
// Embedders (embedder.go): dlib's 128-D ResNet through go-face (Recognizer,
// Euclidean), or the faceplugin ONNX models through OpenCV's dnn
// (Faceplugin: fr_detect, fr_landmark with a 5-point alignment, fr_feature,
// 512-D, cosine; the three nets' 3×3 depthwise convolutions on inputs
// under 18 px run internal/dwconv's loop, which OpenCV 4.6 leaves to a slow
// fallback: a describe 15.9 → 11.2 ms of CPU on one core). Each
// has its own calibrated Rule (rule.go: threshold and margin to the
// runner-up), stranger line, and safe range with a false-accept table
// (calibration.go); descriptors of different models never compare.
//
// Gallery and metrics (gallery.go): an exact in-memory search in the
// embedder's metric (both from one squared distance, with an AVX2 kernel on
// amd64), lock-free for readers, that returns the nearest person and the
// nearest other person.
//
// Pipeline and voting (pipeline.go): per tracked face, the same person must
// win VotesNeeded described frames under the rule; once VotesNeeded votes
// all lie past the model's stranger line (its largest same-person distance
// in calibration, never nearer than threshold + StrangerGap) it is "unknown"
// at once; an inconclusive face is decided "unknown" after UndecidedFrames
// or when it leaves. Each Decision carries its distance, margin, votes,
// latency and JPEG snapshots (frame and face) as evidence. Stats time every
// stage; RunBench (the
// `facegate bench` run and report) and RunNaive (go-face on every full
// frame, the baseline) measure it.
//
// Liveness (liveness.go, optional per door): a match settles only after a
// blink and non-rigid landmark motion, which a photo or a phone held up to
// the camera does not show (RGB only, no depth).
//
// All C memory (gocv Mats and Nets, go-face's recognizer) lives and dies
// inside this package: nothing it returns holds a Mat or a C pointer.
// internal/dwconv is cgo apart only because a cgo package cannot hold Go
// assembly (sqdist); it registers a layer type and holds no memory. It must
// never decide access (package gate) nor touch the database (package
// storage).
package vision
