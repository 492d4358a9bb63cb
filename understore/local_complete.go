package understore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// CompleteUpload checks the listed parts against the staged ones, then
// assembles them with writeVersion (a temporary file beside p, synced and
// renamed over it: readers see the old object or the new one) and removes
// the upload. A crash before the rename leaves the old object and the
// upload; after it, the new object (and perhaps the upload, which can be
// completed again or aborted).
func (s *local) CompleteUpload(ctx context.Context, p, id string, parts []CompletedPart) (ObjectInfo, error) {
	const op = "complete upload"
	if err := checkUploadPath(op, p); err != nil {
		return ObjectInfo{}, err
	}
	if err := checkCompleted(p, parts); err != nil {
		return ObjectInfo{}, err
	}
	if _, err := s.openUpload(op, p, id); err != nil {
		return ObjectInfo{}, err
	}
	if err := s.checkParts(op, p, id, parts); err != nil {
		return ObjectInfo{}, err
	}
	info, err := s.writeVersion(op, p, func(f *os.File) error {
		return s.assemble(ctx, op, p, id, parts, f)
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := s.dropUpload(id); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// The object is in place; a leftover upload only holds disk.
		s.cfg.Logger.Warn("understore: remove completed upload", "path", p, "upload", id, "err", err)
	}
	return info, nil
}

// checkParts checks, from the staged headers alone, that every listed part
// exists with its ETag, that all but the last are at least MinPartSize,
// and that the object would not exceed MaxObjectSize.
func (s *local) checkParts(op, p, id string, parts []CompletedPart) error {
	var total int64
	for i, cp := range parts {
		info, err := s.statPart(id, cp.Number)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errBadPartFile) {
				return opErr(op, p, ErrInvalidPart, fmt.Errorf("part %d: %w", cp.Number, err))
			}
			return localErr(op, p, err)
		}
		if info.ETag != unquoteETag(cp.ETag) {
			return opErr(op, p, ErrInvalidPart, fmt.Errorf("part %d has ETag %s, not %s", cp.Number, info.ETag, cp.ETag))
		}
		if i < len(parts)-1 && info.Size < MinPartSize {
			return opErr(op, p, ErrEntityTooSmall, fmt.Errorf("part %d has %d bytes < %d", cp.Number, info.Size, MinPartSize))
		}
		total += info.Size
	}
	if total > MaxObjectSize {
		return opErr(op, p, ErrBadRequest, fmt.Errorf("object of %d bytes > %d", total, int64(MaxObjectSize)))
	}
	return nil
}

// assemble appends the listed parts to f. Each part's header is checked
// again as it is opened: an UploadPart of the same number since
// checkParts would otherwise slip in unlisted bytes.
func (s *local) assemble(ctx context.Context, op, p, id string, parts []CompletedPart, f *os.File) error {
	for _, cp := range parts {
		if err := s.appendPart(ctx, op, p, id, cp, f); err != nil {
			return err
		}
		if s.afterPart != nil {
			s.afterPart(cp.Number)
		}
	}
	return nil
}

func (s *local) appendPart(ctx context.Context, op, p, id string, cp CompletedPart, f *os.File) error {
	pf, info, err := s.openPart(id, cp.Number)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errBadPartFile) {
			return opErr(op, p, ErrInvalidPart, fmt.Errorf("part %d: %w", cp.Number, err))
		}
		return localErr(op, p, err)
	}
	defer pf.Close()
	if info.ETag != unquoteETag(cp.ETag) {
		return opErr(op, p, ErrInvalidPart, fmt.Errorf("part %d was replaced", cp.Number))
	}
	n, err := copyFile(ctx, f, pf, info.Size)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return opErr(op, p, nil, err)
	case err != nil:
		return localErr(op, p, err)
	case n != info.Size:
		return opErr(op, p, ErrInvalidPart, fmt.Errorf("part %d: %d of %d bytes: %w", cp.Number, n, info.Size, errBadPartFile))
	}
	return nil
}
