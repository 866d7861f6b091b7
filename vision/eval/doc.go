// Package eval measures face models on labelled photos: folders
// DIR/<person>/*.jpg|png, or any person → photos map a caller builds.
//
// It is pure Go (no cgo): a model is anything that implements Model, and the
// adapters that wrap real recognizers live with their callers (the dlib one
// is in cmd/facegate/eval_models.go). For each model it reports which photos
// yielded a face and how long describing took; the genuine (same person) and
// impostor (different people) pair-distance distributions and their EER; a
// 1:N identification run with the real decision rule (threshold plus margin
// to the runner-up), with a leave-one-out impostor protocol, against mean
// templates and against every enrolment photo; FNIR at FPIR = 0 and 1e-3;
// and a threshold calibrated from the impostor distances at a target FAR.
// Reports come as an aligned text table, JSON (with every photo's result),
// and an SVG and a PNG histogram per model.
//
// CalibrateSet takes photos from anywhere (FromBytes builds a Set from a
// person → photos map), so a site can calibrate on its own enrolment
// photos. Scoring 1,000 photos (all pairs, both galleries, sweeps) takes
// about 0.55 s on 2 cores (BenchmarkScore); describing them with dlib
// about 100 s.
package eval
