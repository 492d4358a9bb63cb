package understore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ReadFirst reads len(buf) bytes at off of whatever version is current and
// returns that version's info, with one ranged GetObject: the response
// carries the size (Content-Range), ETag, Last-Modified and the metadata
// that a HEAD would have returned, so a cold read needs no HEAD first. A
// short read only at the end of the object (io.EOF). An offset at or past
// the end (S3 answers 416 with no ETag) costs a Stat as well.
func (s *s3Store) ReadFirst(ctx context.Context, p string, buf []byte, off int64) (ObjectInfo, int, error) {
	const op = "read"
	if err := checkRead(p, buf, off); err != nil {
		return ObjectInfo{}, 0, err
	}
	bucket, key, err := s.checkPath(op, p)
	if err != nil {
		return ObjectInfo{}, 0, err
	}
	if len(buf) == 0 {
		info, err := s.Stat(ctx, p)
		return info, 0, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: &bucket,
		Key:    &key,
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(buf))-1)),
	})
	if err != nil {
		if httpStatus(err) == http.StatusRequestedRangeNotSatisfiable {
			// At or past the end (or an empty object): the answer names
			// no version, so ask which one is current.
			info, serr := s.Stat(ctx, p)
			if serr != nil {
				return ObjectInfo{}, 0, serr
			}
			return info, 0, io.EOF
		}
		return ObjectInfo{}, 0, s3Err(op, p, err)
	}
	defer out.Body.Close()
	info := ObjectInfo{
		Path:    p,
		ETag:    aws.ToString(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
		MetaFP:  metaFP(aws.ToString(out.ContentType), out.Metadata),
	}
	n64 := aws.ToInt64(out.ContentLength)
	cr := aws.ToString(out.ContentRange)
	start, total, ok := parseContentRange(cr)
	switch {
	case ok && start == off && n64 <= int64(len(buf)):
		info.Size = total
	case !ok && off == 0:
		// The whole object came back (a server that answers 200 for a
		// range covering everything): its length is the size; read what
		// fits.
		info.Size = n64
		n64 = min(n64, int64(len(buf)))
	default:
		return ObjectInfo{}, 0, opErr(op, p, ErrUnavailable, fmt.Errorf("response range %q, %d bytes, for %d bytes at %d",
			cr, n64, len(buf), off))
	}
	n, err := io.ReadFull(out.Body, buf[:n64])
	if err != nil {
		return ObjectInfo{}, n, opErr(op, p, ErrUnavailable, fmt.Errorf("body cut at %d of %d bytes: %w", n, n64, err))
	}
	if n < len(buf) {
		return info, n, io.EOF
	}
	return info, n, nil
}

// parseContentRange parses "bytes 10-19/100" into its first byte and the
// object's total size; a "*" total (unknown) is not ok.
func parseContentRange(cr string) (start, total int64, ok bool) {
	start, ok = rangeStart(cr)
	if !ok {
		return 0, 0, false
	}
	_, t, found := strings.Cut(cr, "/")
	if !found {
		return 0, 0, false
	}
	total, err := strconv.ParseInt(t, 10, 64)
	return start, total, err == nil
}
