package listing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ringcache/ringcache/understore"
)

// ListObjects answers ListObjectsV2 (q.V2) with a *ListBucketResultV2 or
// ListObjects (v1) with a *ListBucketResultV1. A missing bucket is
// ErrNoSuchBucket, a bad query or token ErrInvalidArgument (as *Error).
func (l *Lister) ListObjects(ctx context.Context, q Query) (any, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ok, err := l.BucketExists(ctx, q.Bucket)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchBucket(q.Bucket)
	}
	k, err := startOf(q)
	if err != nil {
		return nil, err
	}
	var page understore.ListPage
	if q.MaxKeys > 0 {
		if page, err = l.nonEmptyPage(ctx, k); err != nil {
			return nil, err
		}
	}
	if q.V2 {
		return l.resultV2(q, page)
	}
	return l.resultV1(q, page), nil
}

func noSuchBucket(bucket string) error {
	return &Error{Kind: ErrNoSuchBucket, Message: "The specified bucket does not exist", ArgumentName: "bucket", ArgumentValue: bucket}
}

const errTokenIncorrect = "The continuation token provided is incorrect"

// startOf is the cache key of the page q asks for: after the continuation
// token (v2), else strictly after start-after (v2) or marker (v1), else
// the first page.
func startOf(q Query) (pageKey, error) {
	k := pageKey{bucket: q.Bucket, prefix: q.Prefix, delimiter: q.Delimiter, limit: q.MaxKeys}
	after := q.Marker
	if q.V2 {
		after = q.StartAfter
	}
	switch {
	case q.V2 && q.ContinuationToken != "":
		st, err := decodeToken(q.ContinuationToken)
		if err != nil || st.scope != scopeOf(q.Bucket, q.Prefix, q.Delimiter) {
			return pageKey{}, invalidArg("continuation-token", q.ContinuationToken, errTokenIncorrect)
		}
		k.kind, k.start = startToken, st.under
	case after != "":
		k.kind, k.start = startAfter, after
	}
	return k, nil
}

// maxEmptyPages bounds the empty-but-truncated under-store pages one
// request follows (see nonEmptyPage) before it answers with an empty page
// and a token, which v2 clients follow anyway.
const maxEmptyPages = 16

// nonEmptyPage is the page k names, or, when that page is empty but not
// the last (an S3 server that repeats what the previous page returned, all
// of it filtered out), the first non-empty page after it. A v1 client has
// no token to continue from an empty page: its next marker is the last
// entry of the page.
func (l *Lister) nonEmptyPage(ctx context.Context, k pageKey) (understore.ListPage, error) {
	for range maxEmptyPages {
		page, err := l.page(ctx, k)
		if err != nil || len(page.Objects)+len(page.Prefixes) > 0 || page.NextToken == "" {
			return page, err
		}
		k.kind, k.start = startToken, page.NextToken
	}
	return l.page(ctx, k)
}

// page returns the under-store page k names, from the cache or the store.
func (l *Lister) page(ctx context.Context, k pageKey) (understore.ListPage, error) {
	page, err := l.pages.get(ctx, k, func(ctx context.Context) (understore.ListPage, error) {
		page, err := l.fetch(ctx, k)
		if err != nil {
			return page, err
		}
		return rollUp(page, k.bucket+"/"+k.prefix, k.delimiter), nil
	})
	if err != nil {
		return understore.ListPage{}, l.storeErr(k, err)
	}
	return page, nil
}

// storeErr maps what the under-store says about a listing: a missing
// bucket (removed since the bucket list was cached) is NoSuchBucket, a
// refused under-store token InvalidArgument; anything else passes as is.
func (l *Lister) storeErr(k pageKey, err error) error {
	switch {
	case errors.Is(err, understore.ErrNotFound):
		l.buckets.invalidate()
		return fmt.Errorf("%w: %w", noSuchBucket(k.bucket), err)
	case errors.Is(err, understore.ErrBadRequest) && k.kind == startToken:
		return fmt.Errorf("%w: %w", invalidArg("continuation-token", "", errTokenIncorrect), err)
	case errors.Is(err, understore.ErrBadRequest), errors.Is(err, understore.ErrBadPath):
		return fmt.Errorf("%w: %w", &Error{Kind: ErrInvalidArgument, Message: "Invalid listing argument"}, err)
	}
	return err
}

// fetch reads one page from the under-store.
func (l *Lister) fetch(ctx context.Context, k pageKey) (understore.ListPage, error) {
	prefix := k.bucket + "/" + k.prefix
	switch k.kind {
	case startToken:
		return l.store.List(ctx, prefix, k.delimiter, k.start, k.limit)
	case startAfter:
		if al, ok := l.store.(understore.AfterLister); ok {
			return al.ListAfter(ctx, prefix, k.delimiter, k.start, k.limit)
		}
		return listAfterByPaging(ctx, l.store, prefix, k.delimiter, k.start, k.limit)
	default:
		return l.store.List(ctx, prefix, k.delimiter, "", k.limit)
	}
}

// listAfterByPaging is ListAfter for a Store without it: it pages from the
// start, one page of limit in memory at a time, until a page has entries
// after after; that page (without what precedes after) is the answer, and
// its NextToken continues it.
func listAfterByPaging(ctx context.Context, st Store, prefix, delimiter, after string, limit int) (understore.ListPage, error) {
	bucket := prefix[:strings.IndexByte(prefix, '/')+1] // "bucket/"
	token := ""
	for {
		pg, err := st.List(ctx, prefix, delimiter, token, limit)
		if err != nil {
			return understore.ListPage{}, err
		}
		var out understore.ListPage
		for _, o := range pg.Objects {
			if strings.TrimPrefix(o.Path, bucket) > after {
				out.Objects = append(out.Objects, o)
			}
		}
		for _, p := range pg.Prefixes {
			if strings.TrimPrefix(p, bucket) > after {
				out.Prefixes = append(out.Prefixes, p)
			}
		}
		out.NextToken = pg.NextToken
		if len(out.Objects)+len(out.Prefixes) > 0 || pg.NextToken == "" {
			return out, nil
		}
		token = pg.NextToken
	}
}

// rollUp makes a page S3-shaped where a server is not: a key that holds the
// delimiter after the prefix is a common prefix, not a key (gofakes3 lists
// a marker "dir/" both ways under delimiter "/"), and a common prefix is
// listed once. Real S3 pages pass through unchanged.
func rollUp(page understore.ListPage, prefix, delimiter string) understore.ListPage {
	if delimiter == "" {
		return page
	}
	rolled := false
	for _, o := range page.Objects {
		if strings.Contains(o.Path[min(len(prefix), len(o.Path)):], delimiter) {
			rolled = true
			break
		}
	}
	if !rolled {
		return page
	}
	out := understore.ListPage{NextToken: page.NextToken, Prefixes: slices.Clone(page.Prefixes)}
	for _, o := range page.Objects {
		rest := o.Path[min(len(prefix), len(o.Path)):]
		if i := strings.Index(rest, delimiter); i >= 0 {
			out.Prefixes = append(out.Prefixes, o.Path[:len(o.Path)-len(rest)+i+len(delimiter)])
			continue
		}
		out.Objects = append(out.Objects, o)
	}
	slices.Sort(out.Prefixes)
	out.Prefixes = slices.Compact(out.Prefixes)
	return out
}
