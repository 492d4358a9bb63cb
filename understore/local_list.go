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
	ents, err := s.listEntries(ctx, bucket, kp, delimiter, after.key())
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

// listEntries returns the sorted keys and common prefixes under kp in the
// bucket, starting at the deepest directory kp names. Keys at or before
// after are left out of a recursive walk (and whole directories of them
// are not read) so that later pages of a big listing cost less; pageOf
// filters the rest.
func (s *local) listEntries(ctx context.Context, bucket, kp, delimiter, after string) ([]listEntry, error) {
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
	keys, err := s.walkKeys(ctx, bucket, start, kp, after, 0)
	if err != nil {
		return nil, err
	}
	return groupKeys(keys, kp, delimiter), nil
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

// groupKeys rolls sorted keys up into common prefixes at delimiter. The
// result stays sorted: every key under a prefix sorts with the prefix.
func groupKeys(keys []string, kp, delimiter string) []listEntry {
	var out []listEntry
	for _, k := range keys {
		if delimiter != "" {
			if i := strings.Index(k[len(kp):], delimiter); i >= 0 {
				cp := k[:len(kp)+i+len(delimiter)]
				if len(out) == 0 || out[len(out)-1].key != cp {
					out = append(out, listEntry{cp, true})
				}
				continue
			}
		}
		out = append(out, listEntry{k, false})
	}
	return out
}

// walkKeys returns the sorted keys (relative to bucket) of the objects
// under the directory start that begin with kp and sort after after; max >
// 0 stops after that many. It descends only into directories that can hold
// such keys: a directory dk that sorts before after, and is not a prefix of
// it, holds only keys before after (they differ from after inside dk). Walk
// order is not key order ("a/b" sorts after "a-b" but is visited first), so
// it collects, then sorts.
func (s *local) walkKeys(ctx context.Context, bucket, start, kp, after string, max int) ([]string, error) {
	var keys []string
	err := fs.WalkDir(s.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if name == bucket {
			return nil
		}
		key := name[len(bucket)+1:]
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			dk := key + "/"
			if !strings.HasPrefix(dk, kp) && !strings.HasPrefix(kp, dk) {
				return fs.SkipDir
			}
			if dk < after && !strings.HasPrefix(after, dk) {
				return fs.SkipDir
			}
			return nil
		}
		if key <= after || !strings.HasPrefix(key, kp) || !s.isObject(name, d) {
			return nil
		}
		keys = append(keys, key)
		if max > 0 && len(keys) >= max {
			return fs.SkipAll
		}
		return nil
	})
	slices.Sort(keys)
	return keys, err
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
			some, err := s.walkKeys(ctx, bucket, name, dk, "", 1)
			if err != nil {
				return nil, err
			}
			if len(some) > 0 {
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
