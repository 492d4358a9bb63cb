//go:build !unix

package storage

import (
	"errors"
	"os"
)

// This file is the portable fallback of sys_unix.go: no mapping (callers
// already fall back to reads when mmapReadOnly fails) and no cross-process
// lock of the journal dir (two stores sharing one dir are not detected).

var errNoMmap = errors.New("storage: mmap not supported on this platform")

func mmapReadOnly(fd, size int) ([]byte, error) { return nil, errNoMmap }

func munmap(b []byte) error { return nil }

func lockFile(f *os.File) error { return nil }
