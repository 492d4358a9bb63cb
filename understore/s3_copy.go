package understore

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Copy is S3's CopyObject, conditional on want.ETag by
// x-amz-copy-source-if-match (412 is ErrChanged), and returns dst's new
// version by Stat, as Put. CopyObject takes at most MaxPutSize bytes; a
// bigger source (when want says so, or S3 refuses it) is ErrBadRequest:
// copying it would take UploadPartCopy, which this Store does not do.
func (s *s3Store) Copy(ctx context.Context, src, dst string, want ObjectInfo) (ObjectInfo, error) {
	const op = "copy"
	sb, sk, err := s.checkStrictPath(op, src)
	if err != nil {
		return ObjectInfo{}, err
	}
	db, dk, err := s.checkStrictPath(op, dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	if want.Size > MaxPutSize {
		return ObjectInfo{}, opErr(op, src, ErrBadRequest,
			fmt.Errorf("copy of %d bytes > %d needs UploadPartCopy, which is not implemented", want.Size, int64(MaxPutSize)))
	}
	in := &s3.CopyObjectInput{Bucket: &db, Key: &dk, CopySource: aws.String(copySource(sb, sk))}
	if want.ETag != "" {
		in.CopySourceIfMatch = aws.String(want.ETag)
	}
	if _, err := s.client.CopyObject(ctx, in); err != nil {
		return ObjectInfo{}, s3Err(op, src, err)
	}
	return s.Stat(ctx, dst)
}

// copySource is x-amz-copy-source: "bucket/key", URL-encoded with the
// "/" between elements kept. "+" is escaped too (%2B), and space as %20:
// servers decode the header either as a path or as a query (where "+"
// would be a space), and this form means the same to both.
func copySource(bucket, key string) string {
	elems := strings.Split(bucket+"/"+key, "/")
	for i, e := range elems {
		elems[i] = strings.ReplaceAll(url.QueryEscape(e), "+", "%20")
	}
	return strings.Join(elems, "/")
}

var (
	_ Multiparter = (*s3Store)(nil)
	_ Copier      = (*s3Store)(nil)
	_ Multiparter = (*local)(nil)
	_ Copier      = (*local)(nil)
)
