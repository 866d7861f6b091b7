//go:build !amd64

package vision

func useAVX2Active() bool { return false }
