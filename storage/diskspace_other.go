//go:build !linux && !darwin

package storage

// freeBytes reports the free space of dir's filesystem as unknown on this
// platform: the store then learns its real capacity from ENOSPC alone.
func (OSFS) freeBytes(dir string) (int64, bool) { return 0, false }
