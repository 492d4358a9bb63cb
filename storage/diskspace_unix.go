//go:build linux || darwin

package storage

import "golang.org/x/sys/unix"

// freeBytes returns the bytes an unprivileged writer can still allocate on
// the filesystem of dir (statfs f_bavail x f_bsize).
func (OSFS) freeBytes(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
