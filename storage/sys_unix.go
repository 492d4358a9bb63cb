//go:build unix

package storage

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// This file holds the Unix system calls of the store: mmap and flock. The
// store is built for Linux; sys_other.go lets it build elsewhere (for
// `ringcache dev` on a laptop) with the fallbacks described there.

// mmapReadOnly maps size bytes of fd read-only and shared.
func mmapReadOnly(fd, size int) ([]byte, error) {
	return unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
}

// munmap releases a mapping made by mmapReadOnly.
func munmap(b []byte) error { return unix.Munmap(b) }

// lockFile takes an exclusive, non-blocking flock on f. The kernel drops it
// when the process dies.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
