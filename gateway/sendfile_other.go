//go:build !linux

package gateway

import (
	"io"
	"os"
)

// sendFileRange writes length bytes of f at off to w, through a buffer
// (sendfile with an offset of its own is Linux-only here).
func sendFileRange(w io.Writer, f *os.File, off, length int64) (int64, error) {
	return io.Copy(w, io.NewSectionReader(f, off, length))
}
