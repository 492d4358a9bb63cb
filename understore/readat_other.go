//go:build !linux

package understore

// fastDir: see readat_linux.go; elsewhere ReadAt always uses os.Root.
type fastDir struct{}

func openFast(string) fastDir { return fastDir{} }
func (fastDir) close()        {}

func (s *local) fastReadAt(string, ObjectInfo, []byte, int64) (int, bool, error) {
	return 0, false, nil
}
func (*fastDir) disable() {}
