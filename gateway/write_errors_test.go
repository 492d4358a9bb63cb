package gateway_test

import (
	"bufio"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawAnswer is an S3 answer: the status and, for an error, its code.
type rawAnswer struct {
	status int
	code   string
	body   string
}

// do sends one unsigned request (the env runs with auth none) and reads
// the answer.
func (e *writeEnv) do(t testing.TB, method, target string, hdr map[string]string, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, e.endpoint+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readAnswer(t, resp)
}

func readAnswer(t testing.TB, resp *http.Response) rawAnswer {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := rawAnswer{status: resp.StatusCode, body: string(b)}
	if resp.StatusCode >= 300 {
		var doc struct{ Code, RequestId string }
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("status %d without an error document: %q", resp.StatusCode, b)
		}
		if doc.RequestId == "" || doc.RequestId != resp.Header.Get("x-amz-request-id") {
			t.Errorf("request id %q in the document, %q in the header", doc.RequestId, resp.Header.Get("x-amz-request-id"))
		}
		a.code = doc.Code
	}
	return a
}

// rawTCP sends a request as written (for what net/http's client cannot
// send: no Content-Length, a length it does not honour) and reads the
// answer.
func (e *writeEnv) rawTCP(t testing.TB, request string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite() // a body shorter than its length ends here
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	return readAnswer(t, resp)
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// deleteDoc is a Delete body of n keys.
func deleteDoc(n int) string {
	var b strings.Builder
	b.WriteString("<Delete>")
	for i := range n {
		fmt.Fprintf(&b, "<Object><Key>k%d</Key></Object>", i)
	}
	b.WriteString("</Delete>")
	return b.String()
}

// TestWriteErrors: the refusals of the write operations, each an S3 error
// document with S3's status and code, none leaving an object behind.
func TestWriteErrors(t *testing.T) {
	e := newWriteEnv(t, "none")
	create := e.do(t, http.MethodPost, "/lake/mp?uploads", nil, "")
	var init struct{ UploadId string }
	if create.status != 200 || xml.Unmarshal([]byte(create.body), &init) != nil || init.UploadId == "" {
		t.Fatalf("create: %+v", create)
	}
	up := "/lake/mp?uploadId=" + init.UploadId
	part := e.do(t, http.MethodPut, up+"&partNumber=1", nil, "part one")
	if part.status != 200 {
		t.Fatalf("part: %+v", part)
	}
	okPart := `<Part><PartNumber>1</PartNumber><ETag>"` + fmt.Sprintf("%x", md5.Sum([]byte("part one"))) + `"</ETag></Part>`
	for _, c := range []struct {
		what, method, target string
		hdr                  map[string]string
		body                 string
		status               int
		code                 string
	}{
		{"complete: bad XML", http.MethodPost, up, nil, "<CompleteMultipartUpload><Part>", 400, "MalformedXML"},
		{"complete: another root", http.MethodPost, up, nil, "<Delete></Delete>", 400, "MalformedXML"},
		{"complete: no part", http.MethodPost, up, nil, "<CompleteMultipartUpload></CompleteMultipartUpload>", 400, "MalformedXML"},
		{"complete: no body", http.MethodPost, up, nil, "", 400, "MalformedXML"},
		{"complete: part order", http.MethodPost, up, nil,
			"<CompleteMultipartUpload>" + strings.Replace(okPart, ">1<", ">2<", 1) + okPart + "</CompleteMultipartUpload>", 400, "InvalidPartOrder"},
		{"complete: part number 0", http.MethodPost, up, nil,
			"<CompleteMultipartUpload>" + strings.Replace(okPart, ">1<", ">0<", 1) + "</CompleteMultipartUpload>", 400, "InvalidArgument"},
		{"complete: too big", http.MethodPost, up, nil, "<CompleteMultipartUpload>" + strings.Repeat(" ", 4<<20) + "</CompleteMultipartUpload>", 400, "MaxMessageLengthExceeded"},
		{"complete: unknown upload", http.MethodPost, "/lake/mp?uploadId=nope", nil, "<CompleteMultipartUpload>" + okPart + "</CompleteMultipartUpload>", 404, "NoSuchUpload"},
		{"part number 0", http.MethodPut, up + "&partNumber=0", nil, "x", 400, "InvalidArgument"},
		{"part number 10001", http.MethodPut, up + "&partNumber=10001", nil, "x", 400, "InvalidArgument"},
		{"part number abc", http.MethodPut, up + "&partNumber=abc", nil, "x", 400, "InvalidArgument"},
		{"part of no upload", http.MethodPut, "/lake/mp?uploadId=&partNumber=1", nil, "x", 404, "NoSuchUpload"},
		{"list parts: bad max-parts", http.MethodGet, up + "&max-parts=-1", nil, "", 400, "InvalidArgument"},
		{"abort: unknown upload", http.MethodDelete, "/lake/mp?uploadId=nope", nil, "", 404, "NoSuchUpload"},
		{"uploads: no bucket", http.MethodGet, "/nobucket?uploads", nil, "", 404, "NoSuchBucket"},
		{"uploads: bad encoding", http.MethodGet, "/lake?uploads&encoding-type=xml", nil, "", 400, "InvalidArgument"},
		{"create: no bucket", http.MethodPost, "/nobucket/k?uploads", nil, "", 404, "NoSuchBucket"},
		{"put: no bucket", http.MethodPut, "/nobucket/k", nil, "x", 404, "NoSuchBucket"},
		{"put: bad key", http.MethodPut, "/lake/a/../k", nil, "x", 400, "InvalidArgument"},
		{"put: bad Content-MD5", http.MethodPut, "/lake/k", map[string]string{"Content-MD5": md5b64("other")}, "data", 400, "BadDigest"},
		{"put: malformed Content-MD5", http.MethodPut, "/lake/k", map[string]string{"Content-MD5": "abc"}, "data", 400, "InvalidDigest"},
		{"put: bad crc32", http.MethodPut, "/lake/k", map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, "data", 400, "BadDigest"},
		{"put: two checksums", http.MethodPut, "/lake/k", map[string]string{"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "data", 400, "InvalidRequest"},
		{"put: bad sha256", http.MethodPut, "/lake/k", map[string]string{"x-amz-content-sha256": strings.Repeat("0", 64)}, "data", 400, "XAmzContentSHA256Mismatch"},
		{"delete objects: no MD5", http.MethodPost, "/lake?delete", nil, deleteDoc(1), 400, "InvalidRequest"},
		{"delete objects: bad MD5", http.MethodPost, "/lake?delete", map[string]string{"Content-MD5": md5b64("x")}, deleteDoc(1), 400, "BadDigest"},
		{"delete objects: bad crc32 (of the body)", http.MethodPost, "/lake?delete", map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, deleteDoc(1), 400, "BadDigest"},
		{"delete objects: 1001 keys", http.MethodPost, "/lake?delete", map[string]string{"Content-MD5": md5b64(deleteDoc(1001))}, deleteDoc(1001), 400, "MalformedXML"},
		{"delete objects: no key", http.MethodPost, "/lake?delete", map[string]string{"Content-MD5": md5b64(deleteDoc(0))}, deleteDoc(0), 400, "MalformedXML"},
		{"delete objects: bad XML", http.MethodPost, "/lake?delete", map[string]string{"Content-MD5": md5b64("<Delete")}, "<Delete", 400, "MalformedXML"},
		{"delete objects: no bucket", http.MethodPost, "/nobucket?delete", map[string]string{"Content-MD5": md5b64(deleteDoc(1))}, deleteDoc(1), 404, "NoSuchBucket"},
		{"put: If-None-Match", http.MethodPut, "/lake/k", map[string]string{"If-None-Match": "*"}, "x", 501, "NotImplemented"},
		{"complete: If-Match", http.MethodPost, up, map[string]string{"If-Match": `"x"`}, "<CompleteMultipartUpload>" + okPart + "</CompleteMultipartUpload>", 501, "NotImplemented"},
		{"complete: bad sha256", http.MethodPost, up, map[string]string{"x-amz-content-sha256": strings.Repeat("0", 64)}, "<CompleteMultipartUpload>" + okPart + "</CompleteMultipartUpload>", 400, "XAmzContentSHA256Mismatch"},
		{"copy: no key in the source", http.MethodPut, "/lake/k", map[string]string{"x-amz-copy-source": "lake"}, "", 400, "InvalidArgument"},
	} {
		a := e.do(t, c.method, c.target, c.hdr, c.body)
		if a.status != c.status || a.code != c.code {
			t.Errorf("%s: %d %s, want %d %s (%.200s)", c.what, a.status, a.code, c.status, c.code, a.body)
		}
	}
	if _, err := e.file(t, "lake/k"); err == nil {
		t.Error("a refused put left lake/k")
	}
	if a := e.do(t, http.MethodPost, "/lake?delete", map[string]string{"Content-MD5": md5b64(deleteDoc(1000))}, deleteDoc(1000)); a.status != 200 {
		t.Errorf("delete of 1000 keys: %+v", a)
	}
	if a := e.do(t, http.MethodPost, up, nil, "<CompleteMultipartUpload>"+okPart+"</CompleteMultipartUpload>"); a.status != 200 {
		t.Errorf("the upload after the refusals: %+v", a)
	}
}

// TestPutBodyErrors: a PUT without Content-Length is 411, one over 5 GiB
// EntityTooLarge before any byte is read, and a body shorter than its
// length IncompleteBody; none stores anything.
func TestPutBodyErrors(t *testing.T) {
	e := newWriteEnv(t, "none")
	for _, c := range []struct {
		what, request string
		status        int
		code          string
	}{
		{"no Content-Length", "PUT /lake/k HTTP/1.1\r\nHost: h\r\n\r\n", 411, "MissingContentLength"},
		{"chunked", "PUT /lake/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411, "MissingContentLength"},
		{"part without Content-Length", "PUT /lake/k?uploadId=x&partNumber=1 HTTP/1.1\r\nHost: h\r\n\r\n", 411, "MissingContentLength"},
		{"over 5 GiB", "PUT /lake/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5368709121\r\n\r\nabc", 400, "EntityTooLarge"},
		{"short body", "PUT /lake/k HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabcde", 400, "IncompleteBody"},
	} {
		a := e.rawTCP(t, c.request)
		if a.status != c.status || a.code != c.code {
			t.Errorf("%s: %d %s, want %d %s (%.200s)", c.what, a.status, a.code, c.status, c.code, a.body)
		}
	}
	if _, err := e.file(t, "lake/k"); err == nil {
		t.Error("a refused put left lake/k")
	}
	// Exactly 5 GiB is allowed (and here cut short: IncompleteBody, not
	// EntityTooLarge).
	a := e.rawTCP(t, "PUT /lake/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5368709120\r\n\r\nabc")
	if a.code != "IncompleteBody" {
		t.Errorf("5 GiB cut short: %+v", a)
	}
}
