package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/understore"
)

// fuzzWriter stands in for the node's write path in FuzzServeWrites,
// straight over the fuzz gateway's local store: puts, copies and deletes
// are real; multipart knows the one upload "u1" of lake/obj and keeps no
// parts (the handler side is what is fuzzed; the write tests in
// writer_double_test.go have a complete double).
type fuzzWriter struct{ st understore.Store }

func (w fuzzWriter) PutObject(ctx context.Context, p string, body io.Reader, size int64) (understore.ObjectInfo, error) {
	return w.st.Put(ctx, p, body, size)
}

func (w fuzzWriter) CopyObject(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error) {
	cur, err := w.st.Stat(ctx, src)
	if err != nil {
		return cur, err
	}
	if want.ETag != "" && want.ETag != cur.ETag {
		return cur, understore.ErrChanged
	}
	b := make([]byte, cur.Size)
	if _, err := w.st.ReadAt(ctx, src, cur, b, 0); err != nil && err != io.EOF {
		return cur, err
	}
	return w.st.Put(ctx, dst, strings.NewReader(string(b)), cur.Size)
}

func (w fuzzWriter) DeleteObject(ctx context.Context, p string) error { return w.st.Delete(ctx, p) }

func (w fuzzWriter) upload(p, id string) error {
	if p != "lake/obj" || id != "u1" {
		return fmt.Errorf("%s %s: %w", p, id, understore.ErrNoSuchUpload)
	}
	return nil
}

func (w fuzzWriter) CreateUpload(ctx context.Context, p string) (string, error) { return "u1", nil }

func (w fuzzWriter) UploadPart(ctx context.Context, p, id string, num int, body io.Reader, size int64) (understore.PartInfo, error) {
	if err := w.upload(p, id); err != nil {
		return understore.PartInfo{}, err
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, size))
	if err == nil && n != size {
		err = understore.ErrBadRequest
	}
	return understore.PartInfo{Number: num, Size: n, ETag: "p"}, err
}

func (w fuzzWriter) CompleteUpload(ctx context.Context, p, id string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	if err := w.upload(p, id); err != nil {
		return understore.ObjectInfo{}, err
	}
	return understore.ObjectInfo{}, understore.ErrInvalidPart
}

func (w fuzzWriter) AbortUpload(ctx context.Context, p, id string) error { return w.upload(p, id) }

func (w fuzzWriter) ListParts(ctx context.Context, p, id string, marker, limit int) (understore.PartsPage, error) {
	return understore.PartsPage{}, w.upload(p, id)
}

func (w fuzzWriter) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (understore.UploadsPage, error) {
	return understore.UploadsPage{Uploads: []understore.UploadInfo{{Path: "lake/obj", UploadID: "u1"}}, Prefixes: []string{"lake/d/"}}, nil
}

// FuzzServeWrites feeds raw write requests (routes, bodies, digests, copy
// sources, XML documents) to a gateway with a Writer: none may panic,
// every answer has a request id, every error is S3 XML.
func FuzzServeWrites(f *testing.F) {
	for _, s := range []string{
		"PUT /lake/new HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
		"PUT /lake/new HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-MD5: kAFQmDzST7DWlj99KOF/cg==\r\n\r\nabc",
		"PUT /lake/new HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nx-amz-checksum-crc32c: Nks/tw==\r\n\r\nabc",
		"PUT /lake/d/ HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"PUT /lake/cp HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nx-amz-copy-source: /lake/obj\r\nx-amz-copy-source-if-match: \"x\"\r\n\r\n",
		"PUT /lake/cp HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nx-amz-copy-source: lake/d/k\r\nx-amz-metadata-directive: REPLACE\r\n\r\n",
		"PUT /lake/obj?partNumber=1&uploadId=u1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab",
		"POST /lake/obj?uploads HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"POST /lake/obj?uploadId=u1 HTTP/1.1\r\nHost: h\r\nContent-Length: 86\r\n\r\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>p</ETag></Part></CompleteMultipartUpload>",
		"GET /lake/obj?uploadId=u1&max-parts=2 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake?uploads&encoding-type=url&prefix=d/ HTTP/1.1\r\nHost: h\r\n\r\n",
		"DELETE /lake/obj?uploadId=u1 HTTP/1.1\r\nHost: h\r\n\r\n",
		"DELETE /lake/d/k HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /lake?delete HTTP/1.1\r\nHost: h\r\nContent-Length: 48\r\nContent-MD5: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n<Delete><Object><Key>a</Key></Object></Delete>xx",
	} {
		f.Add(s)
	}
	g, log := fuzzGateway(f, AuthNone)
	g.writer = fuzzWriter{st: g.store.(understore.Store)}
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		req.RequestURI = req.URL.RequestURI()
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if log.panics.Load() != 0 {
			t.Fatalf("handler panicked on %q", raw)
		}
		if rec.Header().Get("x-amz-request-id") == "" {
			t.Fatalf("no request id: %q", raw)
		}
		if rec.Code >= 400 && req.Method != http.MethodHead && !strings.Contains(rec.Body.String(), "<Error>") {
			t.Fatalf("status %d without an S3 error document: %q", rec.Code, raw)
		}
	})
}
