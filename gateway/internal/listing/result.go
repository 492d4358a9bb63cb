package listing

import (
	"strings"

	"github.com/ringcache/ringcache/understore"
)

// resultV2 builds ListObjectsV2's answer from one under-store page.
func (l *Lister) resultV2(q Query, page understore.ListPage) (*ListBucketResultV2, error) {
	enc := encoder(q.EncodingURL)
	res := &ListBucketResultV2{
		Name:              q.Bucket,
		Prefix:            enc(q.Prefix),
		Delimiter:         enc(q.Delimiter),
		MaxKeys:           q.MaxKeys,
		ContinuationToken: q.ContinuationToken,
		StartAfter:        enc(q.StartAfter),
		Contents:          l.contents(q, page, q.FetchOwner),
		CommonPrefixes:    commonPrefixes(q, page),
	}
	if q.EncodingURL {
		res.EncodingType = "url"
	}
	res.KeyCount = len(res.Contents) + len(res.CommonPrefixes)
	if page.NextToken != "" {
		tok, err := encodeToken(tokenState{scope: scopeOf(q.Bucket, q.Prefix, q.Delimiter), under: page.NextToken})
		if err != nil {
			return nil, err
		}
		res.IsTruncated, res.NextContinuationToken = true, tok
	}
	return res, nil
}

// resultV1 builds ListObjects' (v1) answer from one under-store page.
func (l *Lister) resultV1(q Query, page understore.ListPage) *ListBucketResultV1 {
	enc := encoder(q.EncodingURL)
	res := &ListBucketResultV1{
		Name:           q.Bucket,
		Prefix:         enc(q.Prefix),
		Marker:         enc(q.Marker),
		Delimiter:      enc(q.Delimiter),
		MaxKeys:        q.MaxKeys,
		IsTruncated:    page.NextToken != "",
		Contents:       l.contents(q, page, true),
		CommonPrefixes: commonPrefixes(q, page),
	}
	if q.EncodingURL {
		res.EncodingType = "url"
	}
	if res.IsTruncated && q.Delimiter != "" {
		res.NextMarker = enc(lastEntry(q.Bucket, page))
	}
	return res
}

// contents turns the page's objects into <Contents>, keys relative to the
// bucket.
func (l *Lister) contents(q Query, page understore.ListPage, owner bool) []Object {
	enc := encoder(q.EncodingURL)
	out := make([]Object, len(page.Objects))
	for i, o := range page.Objects {
		out[i] = Object{
			Key:          enc(keyOf(q.Bucket, o.Path)),
			LastModified: FormatTime(o.ModTime),
			ETag:         QuoteETag(o.ETag),
			Size:         o.Size,
			StorageClass: StorageClass,
		}
		if owner {
			ow := l.cfg.Owner
			out[i].Owner = &ow
		}
	}
	return out
}

func commonPrefixes(q Query, page understore.ListPage) []CommonPrefix {
	enc := encoder(q.EncodingURL)
	out := make([]CommonPrefix, len(page.Prefixes))
	for i, p := range page.Prefixes {
		out[i] = CommonPrefix{Prefix: enc(keyOf(q.Bucket, p))}
	}
	return out
}

// lastEntry is the greatest key or common prefix of the page (v1's
// NextMarker).
func lastEntry(bucket string, page understore.ListPage) string {
	last := ""
	if n := len(page.Objects); n > 0 {
		last = keyOf(bucket, page.Objects[n-1].Path)
	}
	if n := len(page.Prefixes); n > 0 {
		last = max(last, keyOf(bucket, page.Prefixes[n-1]))
	}
	return last
}

// keyOf strips "bucket/" from an under-store path.
func keyOf(bucket, path string) string {
	return strings.TrimPrefix(path, bucket+"/")
}

func encoder(url bool) func(string) string {
	if url {
		return urlEncode
	}
	return func(s string) string { return s }
}
