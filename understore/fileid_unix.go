//go:build unix

package understore

import (
	"io/fs"
	"syscall"
)

// fileID is the inode and device of fi, so a file replaced by another of the
// same size and mtime still gets a new ETag.
func fileID(fi fs.FileInfo) (ino, dev uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino), uint64(st.Dev) // int32 on some platforms
	}
	return 0, 0
}
