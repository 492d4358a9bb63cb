package storage

import (
	"io"
	"os"
)

// FS is the filesystem the store writes through. It exists so that tests can
// inject write errors, fsync errors and ENOSPC on chosen operations; OSFS is
// the real one. Page reads return *os.File because OpenPage hands the file to
// the transport for sendfile.
type FS interface {
	// OpenFile opens for writing (journal segments, snapshots, page files).
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Open opens for reading.
	Open(name string) (*os.File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(name string, perm os.FileMode) error
	ReadDir(name string) ([]os.DirEntry, error)
	Truncate(name string, size int64) error
	// SyncDir makes renames, creations and removals in dir durable.
	SyncDir(dir string) error
}

// File is a file open for writing.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// OSFS is the FS of the operating system.
type OSFS struct{}

// OpenFile implements FS.
func (OSFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm)
}

// Open implements FS.
func (OSFS) Open(name string) (*os.File, error) { return os.Open(name) }

// Rename implements FS.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(name string, perm os.FileMode) error { return os.MkdirAll(name, perm) }

// ReadDir implements FS.
func (OSFS) ReadDir(name string) ([]os.DirEntry, error) { return os.ReadDir(name) }

// Truncate implements FS.
func (OSFS) Truncate(name string, size int64) error { return os.Truncate(name, size) }

// SyncDir implements FS.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// FreeBytes is what an unprivileged writer can still allocate on the
// filesystem of dir, and false where that cannot be told (no statfs): the
// node's write spool checks it before it takes a body.
func FreeBytes(dir string) (int64, bool) { return OSFS{}.freeBytes(dir) }
