package understore

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"syscall"

	"github.com/ringcache/ringcache/objpath"
)

// localToken is the decoded List continuation token: the last key (relative
// to the bucket) or common prefix a page returned.
type localToken struct {
	last     string
	isPrefix bool
}

func encodeLocalToken(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

func decodeLocalToken(tok, keyPrefix string) (localToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || (b[0] != 'k' && b[0] != 'p') {
		return localToken{}, errors.New("malformed continuation token")
	}
	t := localToken{last: string(b[1:]), isPrefix: b[0] == 'p'}
	if !strings.HasPrefix(t.last, keyPrefix) {
		return localToken{}, errors.New("continuation token does not belong to this prefix")
	}
	return t, nil
}

// List reads one page of the objects and common prefixes under prefix, in
// key order, from the directory tree under the bucket.
func (s *local) List(ctx context.Context, prefix, delimiter, token string, limit int) (ListPage, error) {
	const op = "list"
	if err := ValidatePrefix(prefix); err != nil {
		return ListPage{}, opErr(op, prefix, err, nil)
	}
	var after *localToken // nil on the first page
	if token != "" {
		_, kp := objpath.Split(prefix)
		tok, err := decodeLocalToken(token, kp)
		if err != nil {
			return ListPage{}, opErr(op, prefix, ErrBadRequest, err)
		}
		after = &tok
	}
	return s.list(ctx, op, prefix, delimiter, after, limit)
}

// ListAfter is List starting strictly after the key after (AfterLister).
// A token of the last key returned has the same meaning, so this is List
// with a token made from after.
func (s *local) ListAfter(ctx context.Context, prefix, delimiter, after string, limit int) (ListPage, error) {
	const op = "list"
	if err := ValidatePrefix(prefix); err != nil {
		return ListPage{}, opErr(op, prefix, err, nil)
	}
	if err := checkAfter(op, prefix, after); err != nil {
		return ListPage{}, err
	}
	var tok *localToken
	if after != "" {
		tok = &localToken{last: after}
	}
	return s.list(ctx, op, prefix, delimiter, tok, limit)
}

// list is one page after the position after (nil: from the start).
func (s *local) list(ctx context.Context, op, prefix, delimiter string, after *localToken, limit int) (ListPage, error) {
	if limit <= 0 {
		limit = s.cfg.ListLimit
	}
	bucket, kp := objpath.Split(prefix)
	if err := s.checkBucket(op, prefix, bucket); err != nil {
		return ListPage{}, err
	}
	ents, err := s.listEntries(ctx, bucket, kp, delimiter, after, limit)
	if err != nil {
		return ListPage{}, localErr(op, prefix, err)
	}
	return s.pageOf(ents, bucket, after, limit), nil
}

// key is the last key the token covers; "" (nothing) for a nil token.
func (t *localToken) key() string {
	if t == nil {
		return ""
	}
	return t.last
}

// covers reports whether the page that ended at t already returned e (or,
// for a common prefix, everything under it). A nil token covers nothing.
func (t *localToken) covers(e listEntry) bool {
	return t != nil && (e.key <= t.last || (t.isPrefix && strings.HasPrefix(e.key, t.last)))
}

// listEntries returns, in key order, the keys and common prefixes under kp
// in the bucket that after does not cover, starting at the deepest
// directory kp names: at most limit+1 of them (one more than a page, so
// pageOf knows whether another page follows) when the walk is recursive.
func (s *local) listEntries(ctx context.Context, bucket, kp, delimiter string, after *localToken, limit int) ([]listEntry, error) {
	start := bucket
	if i := strings.LastIndexByte(kp, '/'); i >= 0 {
		start = bucket + "/" + kp[:i]
	}
	if delimiter == "/" {
		// One directory level is enough: subdirectories are the common
		// prefixes (if they hold any object), so a listing of the top of
		// a big bucket does not walk all of it.
		return s.readLevel(ctx, bucket, start, kp)
	}
	var out []listEntry
	err := s.walkOrdered(ctx, bucket, start, kp, after.key(), func(key string) bool {
		e := entryOf(key, kp, delimiter)
		if after.covers(e) || (len(out) > 0 && out[len(out)-1] == e) {
			return true // keys under one common prefix are adjacent
		}
		if len(out) > limit {
			return false
		}
		out = append(out, e)
		return true
	})
	return out, err
}

// pageOf turns the entries after the token into a page of at most limit,
// with a token for the next page when more remain. Objects are stat'ed
// here, not during the walk, so only the ones returned cost a stat.
func (s *local) pageOf(ents []listEntry, bucket string, after *localToken, limit int) ListPage {
	var page ListPage
	var last listEntry
	n := 0
	for _, e := range ents {
		if after.covers(e) {
			continue
		}
		if n == limit {
			page.NextToken = encodeLocalToken(last.key, last.prefix)
			break
		}
		if e.prefix {
			page.Prefixes = append(page.Prefixes, bucket+"/"+e.key)
		} else {
			fi, err := s.root.Stat(bucket + "/" + e.key)
			if err != nil || !fi.Mode().IsRegular() {
				continue // removed since the walk
			}
			page.Objects = append(page.Objects, localInfo(bucket+"/"+e.key, fi))
		}
		last = e
		n++
	}
	return page
}

// listEntry is a key (relative to the bucket) or a common prefix.
type listEntry struct {
	key    string
	prefix bool
}

// entryOf is the entry a key lists as: itself, or the common prefix it
// rolls up into at delimiter.
func entryOf(key, kp, delimiter string) listEntry {
	if delimiter != "" {
		if i := strings.Index(key[len(kp):], delimiter); i >= 0 {
			return listEntry{key[:len(kp)+i+len(delimiter)], true}
		}
	}
	return listEntry{key, false}
}

// walkOrdered calls visit with the keys (relative to bucket) of the
// objects under the directory dir that begin with kp and sort after after,
// in key order, until visit returns false. Each directory is read whole and
// its entries visited in the order of the keys they lead to: a
// subdirectory "a" as "a/", so it comes after a sibling "a-b" whose key
// sorts first, and everything under it is adjacent (no sibling name starts
// with "a/"). So a page stops after its entries instead of walking the
// whole prefix. It descends only into directories that can hold such keys:
// a directory dk that sorts before after, and is not a prefix of it, holds
// only keys before after (they differ from after inside dk).
func (s *local) walkOrdered(ctx context.Context, bucket, dir, kp, after string, visit func(key string) bool) error {
	_, err := s.walkDir(ctx, bucket, dir, kp, after, visit)
	return err
}

// walkDir is walkOrdered for one directory; more is false once visit
// asked to stop.
func (s *local) walkDir(ctx context.Context, bucket, dir, kp, after string, visit func(key string) bool) (more bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d, err := s.root.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return true, nil // removed while walking, or not a directory
		}
		return false, err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return true, nil
		}
		return false, err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(dir, bucket), "/")
	if rel != "" {
		rel += "/"
	}
	sortName := func(de fs.DirEntry) string {
		if de.IsDir() {
			return de.Name() + "/"
		}
		return de.Name()
	}
	slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(sortName(a), sortName(b)) })
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		key, name := rel+de.Name(), dir+"/"+de.Name()
		if de.IsDir() {
			dk := key + "/"
			if !strings.HasPrefix(dk, kp) && !strings.HasPrefix(kp, dk) {
				continue
			}
			if dk < after && !strings.HasPrefix(after, dk) {
				continue
			}
			if more, err := s.walkDir(ctx, bucket, name, kp, after, visit); !more || err != nil {
				return more, err
			}
			continue
		}
		if key <= after || !strings.HasPrefix(key, kp) || !s.isObject(name, de) {
			continue
		}
		if !visit(key) {
			return false, nil
		}
	}
	return true, nil
}

// hasObject reports whether the directory dir holds an object under it
// whose key begins with kp.
func (s *local) hasObject(ctx context.Context, bucket, dir, kp string) (bool, error) {
	found := false
	err := s.walkOrdered(ctx, bucket, dir, kp, "", func(string) bool {
		found = true
		return false
	})
	return found, err
}

// isObject reports whether a non-directory entry is an object: a regular
// file, or a symlink that leads to one inside the root (devices, fifos and
// escaping links are not).
func (s *local) isObject(name string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	fi, err := s.root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readLevel lists one directory for delimiter "/": its objects, and its
// subdirectories that hold at least one object as common prefixes.
func (s *local) readLevel(ctx context.Context, bucket, start, kp string) ([]listEntry, error) {
	d, err := s.root.Open(start)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(start, bucket), "/")
	if rel != "" {
		rel += "/"
	}
	var out []listEntry
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		key := rel + de.Name()
		name := start + "/" + de.Name()
		if de.IsDir() {
			dk := key + "/"
			if !strings.HasPrefix(dk, kp) {
				continue
			}
			some, err := s.hasObject(ctx, bucket, name, dk)
			if err != nil {
				return nil, err
			}
			if some {
				out = append(out, listEntry{dk, true})
			}
			continue
		}
		if strings.HasPrefix(key, kp) && s.isObject(name, de) {
			out = append(out, listEntry{key, false})
		}
	}
	slices.SortFunc(out, func(a, b listEntry) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

var _ AfterLister = (*local)(nil)
