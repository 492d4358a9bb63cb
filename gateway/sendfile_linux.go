package gateway

import (
	"io"
	"os"
	"strconv"
)

// sendFileRange writes length bytes of f at off to w. On Linux the page
// file is reopened through /proc/self/fd (a new open file description, so
// its offset is ours: page handles are shared and read only with pread)
// and handed to net/http as a LimitedReader, which its response writer
// passes to the TCP connection's ReadFrom: sendfile(2), no copy through
// user space. The reopen works even when the page file was unlinked by
// eviction meanwhile.
func sendFileRange(w io.Writer, f *os.File, off, length int64) (int64, error) {
	nf, err := reopen(f)
	if err != nil {
		return io.Copy(w, io.NewSectionReader(f, off, length))
	}
	defer nf.Close()
	if _, err := nf.Seek(off, io.SeekStart); err != nil {
		return io.Copy(w, io.NewSectionReader(f, off, length))
	}
	return io.Copy(w, &io.LimitedReader{R: nf, N: length})
}

func reopen(f *os.File) (*os.File, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd uintptr
	if err := sc.Control(func(p uintptr) { fd = p }); err != nil {
		return nil, err
	}
	return os.Open("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10))
}
