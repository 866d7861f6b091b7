// Package vision turns images into faces and faces into identities: it
// decodes and normalises photos, finds faces, computes descriptors with one
// of two Embedders — dlib's 128-D ResNet through go-face (Euclidean), or the
// faceplugin ONNX models through OpenCV's dnn (fr_detect, fr_landmark with a
// 5-point similarity alignment, fr_feature: 512-D, cosine) — and matches
// them against an in-memory gallery in the embedder's metric. Each model has
// its own calibrated Rule (rule.go). Per video frame a FaceDetector (LBP
// cascade or fr_detect) proposes boxes for the Pipeline.
//
// All C memory (gocv Mats and Nets, go-face's recognizer) lives and dies
// inside this package: nothing it returns holds a Mat or a C pointer. It must
// never decide access (that is package gate) nor touch the database (package
// storage).
package vision
