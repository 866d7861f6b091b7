package vision

func useAVX2Active() bool { return useAVX2 }
