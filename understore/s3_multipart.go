package understore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ringcache/ringcache/objpath"
)

// The S3 store's multipart upload is S3's own; these methods check
// arguments and scope, translate, and map errors (s3Err). Part ETags are
// passed through as S3 returns them (quoted), like every ETag of this
// Store.

// checkStrictPath is checkPath without directory markers: uploads and
// copies are of objects.
func (s *s3Store) checkStrictPath(op, p string) (bucket, key string, err error) {
	if err := ValidatePath(p); err != nil {
		return "", "", opErr(op, p, err, nil)
	}
	return s.checkPath(op, p)
}

func (s *s3Store) CreateUpload(ctx context.Context, p string) (string, error) {
	const op = "create upload"
	bucket, key, err := s.checkStrictPath(op, p)
	if err != nil {
		return "", err
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", s3Err(op, p, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart sends a part of at most PartSize from memory, like Put (the
// SDK signs the payload hash over plain HTTP, which needs a seekable body).
// A bigger part is spooled to a temporary file first (spoolPart), so memory
// stays one copy buffer for parts up to 5 GiB, and the body is known to be
// exactly size bytes before anything is sent: a body that fails or has the
// wrong length never reaches the server. (Streaming it unseekable would need
// UNSIGNED-PAYLOAD over plain HTTP, and versitygw v1.8.0 stores a part from
// a request cut short that way, replacing the good one; the SDK sends a
// trailing checksum for unseekable bodies only over TLS.)
func (s *s3Store) UploadPart(ctx context.Context, p, id string, num int, r io.Reader, size int64) (PartInfo, error) {
	const op = "upload part"
	bucket, key, err := s.checkStrictPath(op, p)
	if err != nil {
		return PartInfo{}, err
	}
	if err := checkPartArgs(p, num, size); err != nil {
		return PartInfo{}, err
	}
	in := &s3.UploadPartInput{
		Bucket: &bucket, Key: &key, UploadId: &id,
		PartNumber: aws.Int32(int32(num)), ContentLength: aws.Int64(size),
	}
	if size <= s.cfg.PartSize {
		b, err := body(ctx, r, size)
		if err != nil {
			return PartInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("reading body: %w", err))
		}
		if err := noMore(r, size); err != nil {
			return PartInfo{}, opErr(op, p, ErrBadRequest, err)
		}
		in.Body = b
	} else {
		f, err := spoolPart(ctx, r, size)
		if err != nil {
			if errors.Is(err, ErrBadRequest) {
				return PartInfo{}, opErr(op, p, ErrBadRequest, err)
			}
			return PartInfo{}, opErr(op, p, nil, err)
		}
		defer f.Close()
		in.Body = f
	}
	out, err := s.client.UploadPart(ctx, in)
	if err != nil {
		return PartInfo{}, s3Err(op, p, err)
	}
	return PartInfo{Number: num, Size: size, ETag: aws.ToString(out.ETag)}, nil
}

// spoolPart copies exactly size bytes of r into an unlinked temporary file
// and returns it positioned at the start. Closing it frees the space.
func spoolPart(ctx context.Context, r io.Reader, size int64) (*os.File, error) {
	f, err := os.CreateTemp("", "ringcache-part-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // the open descriptor keeps the data; a crash leaves nothing
	if _, err := copyToFile(f, newExactReader(ctx, r, size)); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CompleteUpload checks the list's shape locally (so both Stores answer
// alike; S3 checks the rest) and returns the new version by Stat, as Put.
func (s *s3Store) CompleteUpload(ctx context.Context, p, id string, parts []CompletedPart) (ObjectInfo, error) {
	const op = "complete upload"
	bucket, key, err := s.checkStrictPath(op, p)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := checkCompleted(p, parts); err != nil {
		return ObjectInfo{}, err
	}
	cps := make([]s3types.CompletedPart, len(parts))
	for i, cp := range parts {
		cps[i] = s3types.CompletedPart{PartNumber: aws.Int32(int32(cp.Number)), ETag: aws.String(cp.ETag)}
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: &id,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: cps},
	}); err != nil {
		return ObjectInfo{}, s3Err(op, p, err)
	}
	return s.Stat(ctx, p)
}

func (s *s3Store) AbortUpload(ctx context.Context, p, id string) error {
	const op = "abort upload"
	bucket, key, err := s.checkStrictPath(op, p)
	if err != nil {
		return err
	}
	if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: &id,
	}); err != nil {
		return s3Err(op, p, err)
	}
	return nil
}

func (s *s3Store) ListParts(ctx context.Context, p, id string, marker, limit int) (PartsPage, error) {
	const op = "list parts"
	bucket, key, err := s.checkStrictPath(op, p)
	if err != nil {
		return PartsPage{}, err
	}
	if marker < 0 {
		return PartsPage{}, opErr(op, p, ErrBadRequest, fmt.Errorf("negative part marker %d", marker))
	}
	if limit <= 0 || limit > defaultListParts {
		limit = defaultListParts
	}
	in := &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: &id, MaxParts: aws.Int32(int32(limit))}
	if marker > 0 {
		in.PartNumberMarker = aws.String(strconv.Itoa(marker))
	}
	out, err := s.client.ListParts(ctx, in)
	if err != nil {
		return PartsPage{}, s3Err(op, p, err)
	}
	var page PartsPage
	for _, pt := range out.Parts {
		n := int(aws.ToInt32(pt.PartNumber))
		if n <= marker {
			continue // a server that ignores the marker
		}
		page.Parts = append(page.Parts, PartInfo{
			Number: n, Size: aws.ToInt64(pt.Size), ETag: aws.ToString(pt.ETag), ModTime: aws.ToTime(pt.LastModified),
		})
		page.NextMarker = n
	}
	page.Truncated = aws.ToBool(out.IsTruncated)
	if next, err := strconv.Atoi(aws.ToString(out.NextPartNumberMarker)); err == nil && next > page.NextMarker {
		page.NextMarker = next
	}
	return page, nil
}

func (s *s3Store) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (UploadsPage, error) {
	const op = "list uploads"
	if err := ValidatePrefix(prefix); err != nil {
		return UploadsPage{}, opErr(op, prefix, err, nil)
	}
	prefix, err := s.scopedPrefix(op, prefix)
	if err != nil {
		return UploadsPage{}, err
	}
	if err := checkAfter(op, prefix, keyMarker); err != nil {
		return UploadsPage{}, err
	}
	if err := checkAfter(op, prefix, uploadIDMarker); err != nil {
		return UploadsPage{}, err
	}
	if limit <= 0 || limit > defaultListParts {
		limit = defaultListParts
	}
	bucket, kp := objpath.Split(prefix)
	in := &s3.ListMultipartUploadsInput{Bucket: &bucket, MaxUploads: aws.Int32(int32(limit))}
	if kp != "" {
		in.Prefix = aws.String(kp)
	}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	if keyMarker != "" {
		in.KeyMarker = aws.String(keyMarker)
		if uploadIDMarker != "" {
			in.UploadIdMarker = aws.String(uploadIDMarker)
		}
	}
	out, err := s.client.ListMultipartUploads(ctx, in)
	if err != nil {
		return UploadsPage{}, s3Err(op, prefix, err)
	}
	var page UploadsPage
	for _, u := range out.Uploads {
		page.Uploads = append(page.Uploads, UploadInfo{
			Path: bucket + "/" + aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated),
		})
	}
	for _, cp := range out.CommonPrefixes {
		page.Prefixes = append(page.Prefixes, bucket+"/"+aws.ToString(cp.Prefix))
	}
	page.Truncated = aws.ToBool(out.IsTruncated)
	if page.Truncated {
		page.NextKeyMarker = aws.ToString(out.NextKeyMarker)
		page.NextUploadIDMarker = aws.ToString(out.NextUploadIdMarker)
	}
	return page, nil
}
