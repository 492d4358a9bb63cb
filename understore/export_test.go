package understore

// DisableFastRead makes a local Store use the portable os.Root ReadAt path,
// so tests cover it on Linux too.
func DisableFastRead(st Store) {
	if l, ok := st.(*local); ok {
		l.fast.disable()
	}
}
