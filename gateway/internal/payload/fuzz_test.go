package payload

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSpec is the Spec FuzzChunked decodes a body with: mode picks the
// form (and a declared crc32 trailer for the trailer forms).
func fuzzSpec(mode uint8, decoded uint32) Spec {
	n := int(decoded % (1 << 20))
	switch mode % 4 {
	case 0:
		return chunkSpec(StreamingUnsignedTrailer, n, "x-amz-checksum-crc32")
	case 1:
		return chunkSpec(StreamingUnsignedTrailer, n)
	case 2:
		return chunkSpec(StreamingSigned, n)
	}
	return chunkSpec(StreamingSignedTrailer, n, "x-amz-checksum-crc32")
}

// fuzzChunkedSeeds are valid bodies of every form plus a few near misses.
func fuzzChunkedSeeds(t testing.TB) []struct {
	body    []byte
	decoded uint32
	mode    uint8
} {
	data := randBytes(99, 3000)
	cn := "x-amz-checksum-crc32"
	tr := map[string]string{cn: refSum(CRC32, data)}
	type seed = struct {
		body    []byte
		decoded uint32
		mode    uint8
	}
	return []seed{
		{chunkedBody{chunks: split(3000, 1000), names: []string{cn}, trailer: tr}.build(t, data), 3000, 0},
		{chunkedBody{chunks: split(3000, 1024)}.build(t, data), 3000, 1},
		{chunkedBody{signed: true, chunks: split(3000, 1000)}.build(t, data), 3000, 2},
		{chunkedBody{signed: true, chunks: split(3000, 2000), names: []string{cn}, trailer: tr, trailSig: true}.build(t, data), 3000, 3},
		{chunkedBody{signed: true, chunks: split(3000, 2000), names: []string{cn}, trailer: tr, trailSig: true, lf: true}.build(t, data), 3000, 3},
		{chunkedBody{signed: true}.build(t, nil), 0, 2},
		{[]byte("5\r\nhello\r\n0\r\n\r\n"), 5, 1},
		{[]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), 5, 0},
		{[]byte("ffffffffffffffff\r\n"), 5, 1},
		{[]byte("5;chunk-signature=" + strings.Repeat("a", 64) + "\r\nhello\r\n"), 5, 2},
	}
}

// FuzzChunked decodes arbitrary bytes as an aws-chunked body: no panic,
// never more than Size() bytes, never the whole object with an error,
// and every error a *Error (the body is an in-memory reader).
func FuzzChunked(f *testing.F) {
	for _, s := range fuzzChunkedSeeds(f) {
		f.Add(s.body, s.decoded, s.mode)
	}
	f.Fuzz(func(t *testing.T, body []byte, decoded uint32, mode uint8) {
		s := fuzzSpec(mode, decoded)
		got, _, err := decode(t, body, s, uint64(len(body)))
		if err == nil {
			if int64(len(got)) != s.DecodedLength {
				t.Fatalf("decoded %d bytes without error, want %d", len(got), s.DecodedLength)
			}
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *payload.Error", err)
		}
	})
}

// parseHeaderText turns "Name: value" lines into a header.
func parseHeaderText(raw string) http.Header {
	h := http.Header{}
	for line := range strings.SplitSeq(raw, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k)), strings.TrimSpace(v))
	}
	return h
}

var fuzzSpecSeeds = []struct {
	headers string
	cl      int64
}{
	{"X-Amz-Content-Sha256: UNSIGNED-PAYLOAD", 10},
	{"X-Amz-Content-Sha256: " + emptySHA256, 0},
	{"X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\nContent-Encoding: aws-chunked\nX-Amz-Decoded-Content-Length: 5\nX-Amz-Trailer: x-amz-checksum-crc32\nX-Amz-Sdk-Checksum-Algorithm: CRC32", 52},
	{"X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\nContent-Encoding: aws-chunked\nX-Amz-Decoded-Content-Length: 5", 180},
	{"X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\nX-Amz-Decoded-Content-Length: 5\nX-Amz-Trailer: x-amz-checksum-crc32c", 300},
	{"Content-Md5: XUFAKrxLKna5cZ2REBfFkg==\nX-Amz-Checksum-Sha256: LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", 5},
	{"X-Amz-Checksum-Crc64nvme: AAAAAAAAAAA=\nX-Amz-Checksum-Type: FULL_OBJECT", 5},
	{"X-Amz-Checksum-Crc32: AAAAAA==\nX-Amz-Checksum-Crc32: AAAAAA==", 5},
	{"X-Amz-Trailer: x-amz-checksum-crc32, x-amz-checksum-sha1", 5},
	{"Content-Md5: abc", -1},
}

// FuzzSpecFromRequest parses arbitrary headers: errors are *Error with a
// 4xx status, and a Spec it accepts NewReader accepts too.
func FuzzSpecFromRequest(f *testing.F) {
	for _, s := range fuzzSpecSeeds {
		f.Add(s.headers, s.cl)
	}
	f.Fuzz(func(t *testing.T, raw string, cl int64) {
		s, err := SpecFromRequest(parseHeaderText(raw), cl)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Status < 400 || pe.Status > 499 || pe.Code == "" {
				t.Fatalf("error %#v", err)
			}
			return
		}
		s.SkipSignatures = true
		r, err := NewReader(bytes.NewReader([]byte(raw)), s)
		if err != nil {
			t.Fatalf("NewReader refuses what SpecFromRequest accepted: %v", err)
		}
		if r.Size() < 0 {
			t.Fatalf("Size %d", r.Size())
		}
		_, _ = readAll(t, r, rand.New(rand.NewPCG(uint64(cl), 3)))
	})
}

// TestWriteFuzzCorpus rewrites testdata/fuzz from the seeds above when
// PAYLOAD_WRITE_CORPUS=1, so the corpus CI replays is the seeds' current
// form.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("PAYLOAD_WRITE_CORPUS") != "1" {
		t.Skip("set PAYLOAD_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, i int, content string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte("go test fuzz v1\n"+content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzChunkedSeeds(t) {
		write("FuzzChunked", i, fmt.Sprintf("[]byte(%q)\nuint32(%d)\nuint8(%d)\n", s.body, s.decoded, s.mode))
	}
	for i, s := range fuzzSpecSeeds {
		write("FuzzSpecFromRequest", i, fmt.Sprintf("string(%q)\nint64(%d)\n", s.headers, s.cl))
	}
}
