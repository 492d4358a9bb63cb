package understore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ringcache/ringcache/objpath"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// s3Store is the Store for s3://[bucket[/prefix]].
type s3Store struct {
	cfg    Config
	client *s3.Client
	bucket string // "" = any bucket
	prefix string // key prefix without trailing "/"; "" = whole bucket
}

func openS3(ctx context.Context, cfg Config, t target) (*s3Store, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("understore: open %s: aws config: %w", cfg.URL, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
		// Checksums only where S3 requires them: most S3-compatible servers
		// (MinIO, versitygw, gofakes3) reject or mishandle the newer
		// default CRC trailers, and ReadAt checks the ETag anyway.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = cfg.MaxAttempts
			so.MaxBackoff = cfg.MaxBackoff
			// No client-side retry quota: under throttling the quota turns
			// retryable errors into opaque "quota exceeded" failures; the
			// caller's ctx bounds the time spent instead.
			so.RateLimiter = ratelimit.None
		})
	})
	return &s3Store{cfg: cfg, client: client, bucket: t.bucket, prefix: t.prefix}, nil
}

// Close is a no-op; the SDK client holds no resources that need releasing.
func (s *s3Store) Close() error { return nil }

// scope checks a valid path (or prefix, when isPrefix) against the bucket
// and prefix the Store was opened on.
func (s *s3Store) scope(op, p string) error {
	if s.bucket == "" {
		return nil
	}
	bucket, key := objpath.Split(p)
	if bucket != s.bucket || (s.prefix != "" && !strings.HasPrefix(key, s.prefix+"/")) {
		want := s.bucket + "/"
		if s.prefix != "" {
			want += s.prefix + "/"
		}
		return opErr(op, p, ErrOutOfScope, fmt.Errorf("store serves only %s*", want))
	}
	return nil
}

// checkPath checks an object path (or a directory marker, which on S3 is an
// object like any other) and the scope.
func (s *s3Store) checkPath(op, p string) (bucket, key string, err error) {
	if err := validateObject(p); err != nil {
		return "", "", opErr(op, p, err, nil)
	}
	if err := s.scope(op, p); err != nil {
		return "", "", err
	}
	bucket, key = objpath.Split(p)
	return bucket, key, nil
}

// s3Err maps an SDK error to the sentinels by S3 error code first (it is
// the most specific) and HTTP status second; an error with no HTTP response
// at all is a network failure or timeout, so ErrUnavailable.
func s3Err(op, p string, err error) error {
	if errors.Is(err, context.Canceled) {
		return opErr(op, p, nil, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return opErr(op, p, ErrNotFound, err)
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled":
			return opErr(op, p, ErrAccessDenied, err)
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
			"TooManyRequests", "RequestThrottled", "TooManyRequestsException":
			return opErr(op, p, ErrThrottled, err)
		case "PreconditionFailed":
			return opErr(op, p, ErrChanged, err)
		case "NoSuchUpload":
			return opErr(op, p, ErrNoSuchUpload, err)
		case "InvalidPart":
			return opErr(op, p, ErrInvalidPart, err)
		case "InvalidPartOrder":
			return opErr(op, p, ErrInvalidPartOrder, err)
		case "EntityTooSmall":
			return opErr(op, p, ErrEntityTooSmall, err)
		}
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == http.StatusNotFound:
			return opErr(op, p, ErrNotFound, err)
		case code == http.StatusForbidden:
			return opErr(op, p, ErrAccessDenied, err)
		case code == http.StatusPreconditionFailed:
			return opErr(op, p, ErrChanged, err)
		case code == http.StatusTooManyRequests:
			return opErr(op, p, ErrThrottled, err)
		case code >= 500:
			return opErr(op, p, ErrUnavailable, err)
		case code > 0:
			return opErr(op, p, nil, err)
		}
	}
	return opErr(op, p, ErrUnavailable, err)
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// metaFP fingerprints what S3 lets change without new content: content type
// and user metadata.
func metaFP(contentType string, meta map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", contentType)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q\n", strings.ToLower(k), meta[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (s *s3Store) Stat(ctx context.Context, p string) (ObjectInfo, error) {
	bucket, key, err := s.checkPath("stat", p)
	if err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return ObjectInfo{}, s3Err("stat", p, err)
	}
	return ObjectInfo{
		Path:    p,
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    aws.ToString(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
		MetaFP:  metaFP(aws.ToString(out.ContentType), out.Metadata),
	}, nil
}

func (s *s3Store) ReadAt(ctx context.Context, p string, want ObjectInfo, buf []byte, off int64) (int, error) {
	const op = "read"
	if err := checkRead(p, buf, off); err != nil {
		return 0, err
	}
	bucket, key, err := s.checkPath(op, p)
	if err != nil {
		return 0, err
	}
	if len(buf) == 0 {
		return 0, nil
	}
	in := &s3.GetObjectInput{
		Bucket: &bucket,
		Key:    &key,
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1)),
	}
	if want.ETag != "" {
		in.IfMatch = aws.String(want.ETag)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if httpStatus(err) == http.StatusRequestedRangeNotSatisfiable {
			// off is at or past the end of the current object. If that
			// is still the caller's version this is plain EOF.
			if want.ETag != "" {
				cur, serr := s.Stat(ctx, p)
				if serr != nil {
					return 0, serr
				}
				if cur.ETag != want.ETag {
					return 0, opErr(op, p, ErrChanged, nil)
				}
			}
			return 0, io.EOF
		}
		return 0, s3Err(op, p, err)
	}
	defer out.Body.Close()
	// Some servers (gofakes3) ignore If-Match on GET; the response's ETag
	// is the last word on which version these bytes belong to.
	if want.ETag != "" && aws.ToString(out.ETag) != want.ETag {
		return 0, opErr(op, p, ErrChanged, fmt.Errorf("server returned ETag %s", aws.ToString(out.ETag)))
	}
	n64 := aws.ToInt64(out.ContentLength)
	if start, ok := rangeStart(aws.ToString(out.ContentRange)); (ok && start != off) ||
		(!ok && off != 0) || n64 > int64(len(buf)) {
		// The server ignored or misread Range; these bytes are not the
		// ones asked for.
		return 0, opErr(op, p, ErrUnavailable, fmt.Errorf("response range %q, %d bytes, for %d bytes at %d",
			aws.ToString(out.ContentRange), n64, len(buf), off))
	}
	n, err := io.ReadFull(out.Body, buf[:n64])
	if err != nil {
		return n, opErr(op, p, ErrUnavailable, fmt.Errorf("body cut at %d of %d bytes: %w", n, n64, err))
	}
	if n < len(buf) {
		return n, io.EOF
	}
	return n, nil
}

// List reads one page with ListObjectsV2. The token carries S3's own
// continuation token and the last key or prefix returned, to drop what a
// server repeats (see s3Page).
func (s *s3Store) List(ctx context.Context, prefix, delimiter, token string, limit int) (ListPage, error) {
	const op = "list"
	in, bucket, err := s.listInput(op, prefix, delimiter, limit)
	if err != nil {
		return ListPage{}, err
	}
	var after string // last key or prefix the previous page returned
	if token != "" {
		native, last, err := decodeS3Token(token)
		if err != nil {
			return ListPage{}, opErr(op, prefix, ErrBadRequest, err)
		}
		in.ContinuationToken = aws.String(native)
		after = last
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return ListPage{}, s3Err(op, prefix, err)
	}
	return s3Page(out, bucket, after), nil
}

// ListAfter is List's first page with StartAfter (AfterLister). The page
// is filtered against after like a continued page, for servers that return
// a common prefix that after falls inside of (S3 skips it).
func (s *s3Store) ListAfter(ctx context.Context, prefix, delimiter, after string, limit int) (ListPage, error) {
	const op = "list"
	in, bucket, err := s.listInput(op, prefix, delimiter, limit)
	if err != nil {
		return ListPage{}, err
	}
	if err := checkAfter(op, prefix, after); err != nil {
		return ListPage{}, err
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return ListPage{}, s3Err(op, prefix, err)
	}
	return s3Page(out, bucket, after), nil
}

// listInput checks a List's prefix and scope and builds its request.
func (s *s3Store) listInput(op, prefix, delimiter string, limit int) (*s3.ListObjectsV2Input, string, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, "", opErr(op, prefix, err, nil)
	}
	prefix, err := s.scopedPrefix(op, prefix)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = s.cfg.ListLimit
	}
	bucket, kp := objpath.Split(prefix)
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(bucket),
		Prefix:  aws.String(kp),
		MaxKeys: aws.Int32(int32(min(limit, 1<<30))),
	}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	return in, bucket, nil
}

// scopedPrefix checks that a listing stays inside the store's scope (when
// it has one). A prefix that names the scope itself ("b/scope") is taken
// as the inside of it ("b/scope/"): it would otherwise fail the check, and
// would also match "b/scope-other/...", which is outside.
func (s *s3Store) scopedPrefix(op, prefix string) (string, error) {
	if s.bucket == "" {
		return prefix, nil
	}
	b, kp := objpath.Split(prefix)
	if s.prefix != "" && kp == s.prefix {
		kp += "/"
	}
	if err := s.scope(op, b+"/"+kp); err != nil {
		return "", err
	}
	return b + "/" + kp, nil
}

// s3Page turns a ListObjectsV2 answer into a page, dropping the keys and
// prefixes at or before after, and a token for the next page when the
// answer is truncated.
func s3Page(out *s3.ListObjectsV2Output, bucket, after string) ListPage {
	var page ListPage
	last := after
	for _, o := range out.Contents {
		if k := aws.ToString(o.Key); k > last {
			last = k
		}
		if aws.ToString(o.Key) <= after {
			continue // see the CommonPrefixes loop
		}
		page.Objects = append(page.Objects, ObjectInfo{
			Path:    bucket + "/" + aws.ToString(o.Key),
			Size:    aws.ToInt64(o.Size),
			ETag:    aws.ToString(o.ETag),
			ModTime: aws.ToTime(o.LastModified),
		})
	}
	for _, cp := range out.CommonPrefixes {
		c := aws.ToString(cp.Prefix)
		if c > last {
			last = c
		}
		// gofakes3 resumes after the last key rather than after the last
		// common prefix, so a prefix that ended one page starts the next
		// again; drop what the previous page already returned.
		if c <= after {
			continue
		}
		page.Prefixes = append(page.Prefixes, bucket+"/"+c)
	}
	if aws.ToBool(out.IsTruncated) {
		page.NextToken = encodeS3Token(aws.ToString(out.NextContinuationToken), last)
	}
	return page
}

// rangeStart parses the first byte of a Content-Range ("bytes 10-19/100").
func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// The List token wraps the server's continuation token together with the
// last entry returned, which the next page filters against.
func encodeS3Token(native, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(last + "\x00" + native))
}

func decodeS3Token(tok string) (native, last string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", "", errors.New("malformed continuation token")
	}
	last, native, ok := strings.Cut(string(b), "\x00")
	if !ok || native == "" {
		return "", "", errors.New("malformed continuation token")
	}
	return native, last, nil
}

// body returns the next n bytes of r as a seekable reader: the SDK must
// know the length, and over plain HTTP it signs the payload hash, which
// needs a second pass.
func body(ctx context.Context, r io.Reader, n int64) (*bytes.Reader, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(ctxReader{ctx, r}, b); err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func (s *s3Store) Put(ctx context.Context, p string, r io.Reader, size int64) (ObjectInfo, error) {
	const op = "put"
	bucket, key, err := s.checkPath(op, p)
	if err != nil {
		return ObjectInfo{}, err
	}
	if size < 0 {
		return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("negative size %d", size))
	}
	if err := checkMarkerPut(p, size); err != nil {
		return ObjectInfo{}, err
	}
	if size <= s.cfg.PartSize {
		b, err := body(ctx, r, size)
		if err != nil {
			return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("reading body: %w", err))
		}
		if err := noMore(r, size); err != nil {
			return ObjectInfo{}, opErr(op, p, ErrBadRequest, err)
		}
		if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: &key, Body: b, ContentLength: aws.Int64(size),
		}); err != nil {
			return ObjectInfo{}, s3Err(op, p, err)
		}
	} else if err := s.putMultipart(ctx, p, bucket, key, r, size); err != nil {
		return ObjectInfo{}, err
	}
	// PutObject returns only the ETag; Stat for size, time and MetaFP. A
	// concurrent writer may win in between; the caller sees that version.
	return s.Stat(ctx, p)
}

// putMultipart uploads parts of PartSize one after another, holding one part
// in memory; the object appears atomically at Complete.
func (s *s3Store) putMultipart(ctx context.Context, p, bucket, key string, r io.Reader, size int64) error {
	const op = "put"
	cr, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return s3Err(op, p, err)
	}
	abort := func() {
		// Best effort, even if ctx is done: otherwise the parts linger.
		_, err := s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
			Bucket: &bucket, Key: &key, UploadId: cr.UploadId,
		})
		if err != nil {
			s.cfg.Logger.Warn("understore: abort multipart upload", "path", p,
				"upload", aws.ToString(cr.UploadId), "err", err)
		}
	}
	var parts []s3types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+s.cfg.PartSize, num+1 {
		n := min(s.cfg.PartSize, size-off)
		b, err := body(ctx, r, n)
		if err != nil {
			abort()
			return opErr(op, p, ErrBadRequest, fmt.Errorf("reading body at %d: %w", off, err))
		}
		up, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &bucket, Key: &key, UploadId: cr.UploadId,
			PartNumber: aws.Int32(num), Body: b, ContentLength: aws.Int64(n),
		})
		if err != nil {
			abort()
			return s3Err(op, p, err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(num)})
	}
	if err := noMore(r, size); err != nil {
		abort()
		return opErr(op, p, ErrBadRequest, err)
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: cr.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		abort()
		return s3Err(op, p, err)
	}
	return nil
}

func (s *s3Store) Delete(ctx context.Context, p string) error {
	bucket, key, err := s.checkPath("delete", p)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		err = s3Err("delete", p, err)
		if errors.Is(err, ErrNotFound) && !isNoSuchBucket(err) {
			return nil // some servers answer 404 for a missing key
		}
		return err
	}
	return nil
}

func isNoSuchBucket(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}

func (s *s3Store) Buckets(ctx context.Context) ([]string, error) {
	if s.bucket != "" {
		return []string{s.bucket}, nil
	}
	var out []string
	var token *string
	for {
		res, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: token})
		if err != nil {
			return nil, s3Err("buckets", "", err)
		}
		for _, b := range res.Buckets {
			out = append(out, aws.ToString(b.Name))
		}
		if aws.ToString(res.ContinuationToken) == "" {
			break
		}
		token = res.ContinuationToken
	}
	slices.Sort(out)
	return out, nil
}

var _ AfterLister = (*s3Store)(nil)
