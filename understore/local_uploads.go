package understore

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/ringcache/ringcache/objpath"
)

// ListUploads reads every upload's upload.json (uploads in progress are
// few: each is a client's open transfer), keeps those under prefix, and
// pages through them in (key, upload ID) order; IDs sort by initiation.
func (s *local) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (UploadsPage, error) {
	const op = "list uploads"
	if err := ValidatePrefix(prefix); err != nil {
		return UploadsPage{}, opErr(op, prefix, err, nil)
	}
	if err := checkAfter(op, prefix, keyMarker); err != nil {
		return UploadsPage{}, err
	}
	if err := checkAfter(op, prefix, uploadIDMarker); err != nil {
		return UploadsPage{}, err
	}
	if limit <= 0 {
		limit = defaultListParts
	}
	bucket, kp := objpath.Split(prefix)
	if err := s.checkBucket(op, prefix, bucket); err != nil {
		return UploadsPage{}, err
	}
	ups, err := s.uploadsUnder(ctx, bucket, kp)
	if err != nil {
		return UploadsPage{}, localErr(op, prefix, err)
	}
	return uploadsPage(ups, bucket, kp, delimiter, keyMarker, uploadIDMarker, limit), nil
}

// uploadsUnder returns the uploads whose key (relative to bucket) starts
// with kp, sorted by key then ID.
func (s *local) uploadsUnder(ctx context.Context, bucket, kp string) ([]UploadInfo, error) {
	d, err := s.root.Open(uploadsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // no upload was ever created
		}
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	var out []UploadInfo
	for _, id := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if parseUploadID(id) != nil {
			continue // .new-*, .dead-*
		}
		m, err := s.readMeta(id)
		if err != nil {
			continue // aborted or completed since the directory was read
		}
		b, key := objpath.Split(m.Path)
		if b != bucket || !strings.HasPrefix(key, kp) {
			continue
		}
		out = append(out, UploadInfo{Path: m.Path, UploadID: id, Initiated: m.Initiated})
	}
	slices.SortFunc(out, func(a, b UploadInfo) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	return out, nil
}

// uploadsPage is the page of ups (sorted, under kp) after the markers, as
// S3 pages ListMultipartUploads: with only keyMarker, the keys after it;
// with both, also keyMarker's uploads after uploadIDMarker. A common
// prefix sorts as itself and is skipped when keyMarker falls inside it.
func uploadsPage(ups []UploadInfo, bucket, kp, delimiter, keyMarker, uploadIDMarker string, limit int) UploadsPage {
	var page UploadsPage
	lastPrefix := ""
	n := 0
	for _, u := range ups {
		key := u.Path[len(bucket)+1:]
		e := entryOf(key, kp, delimiter)
		if e.prefix {
			if e.key == lastPrefix || e.key <= keyMarker || strings.HasPrefix(keyMarker, e.key) {
				continue
			}
		} else if key < keyMarker || (key == keyMarker && (uploadIDMarker == "" || u.UploadID <= uploadIDMarker)) {
			continue
		}
		if n == limit {
			page.Truncated = true
			break
		}
		n++
		if e.prefix {
			lastPrefix = e.key
			page.Prefixes = append(page.Prefixes, bucket+"/"+e.key)
			page.NextKeyMarker, page.NextUploadIDMarker = e.key, ""
			continue
		}
		page.Uploads = append(page.Uploads, u)
		page.NextKeyMarker, page.NextUploadIDMarker = key, u.UploadID
	}
	if !page.Truncated {
		page.NextKeyMarker, page.NextUploadIDMarker = "", ""
	}
	return page
}
