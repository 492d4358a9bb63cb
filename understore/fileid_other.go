//go:build !unix

package understore

import "io/fs"

// fileID has no inode to offer off Unix: the ETag rests on size and mtime.
func fileID(fs.FileInfo) (ino, dev uint64) { return 0, 0 }
