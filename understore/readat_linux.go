package understore

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// fastDir is an O_PATH descriptor of the store's directory for ReadAt, the
// hot path of a cache miss. os.Root.Open costs several syscalls more per
// call (a walk per path element, poller registration of the new file);
// openat2 with RESOLVE_BENEATH resolves the whole path in one call with the
// same guarantee: nothing outside the directory, symlinks included. fd < 0
// means openat2 is unavailable (kernel < 5.6, seccomp) and os.Root is used.
type fastDir struct{ fd int }

func openFast(dir string) fastDir {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fastDir{fd: -1}
	}
	probe, err := unix.Openat2(fd, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH})
	if err != nil {
		unix.Close(fd)
		return fastDir{fd: -1}
	}
	unix.Close(probe)
	return fastDir{fd: fd}
}

func (d fastDir) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
	}
}

func statETag(st *unix.Stat_t) string {
	return etagOf(st.Size, st.Mtim.Sec*1e9+st.Mtim.Nsec, st.Ino, uint64(st.Dev))
}

func errnoErr(op, p string, err error) error {
	switch {
	case errors.Is(err, unix.EXDEV):
		return opErr(op, p, ErrBadPath, errors.New("path escapes the directory"))
	default:
		return localErr(op, p, err)
	}
}

// fastReadAt is ReadAt on raw descriptors; ok is false when unavailable.
// Same contract as the os.Root path: fstat, compare the ETag, pread, fstat
// again.
func (s *local) fastReadAt(p string, want ObjectInfo, buf []byte, off int64) (n int, ok bool, err error) {
	if s.fast.fd < 0 {
		return 0, false, nil
	}
	var fd int
	for {
		fd, err = unix.Openat2(s.fast.fd, p, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, true, errnoErr("read", p, err)
	}
	defer unix.Close(fd)
	check := func() error {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return errnoErr("read", p, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return opErr("read", p, ErrNotFound, errors.New("not a regular file"))
		}
		if want.ETag != "" && statETag(&st) != want.ETag {
			return opErr("read", p, ErrChanged, nil)
		}
		return nil
	}
	if err := check(); err != nil {
		return 0, true, err
	}
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, true, errnoErr("read", p, err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if err := check(); err != nil {
		return 0, true, err
	}
	if n < len(buf) {
		return n, true, io.EOF
	}
	return n, true, nil
}

func (d *fastDir) disable() {
	d.close()
	d.fd = -1
}
