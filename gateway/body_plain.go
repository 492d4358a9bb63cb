package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/sigv4"
)

// decodedBody is a PutObject or UploadPart body as object bytes, verified
// as they stream: every check is made before the last byte is returned
// (the Read that would complete the object returns (0, err) instead), so
// a Writer that reads exactly Size bytes never stores a bad body.
type decodedBody interface {
	io.Reader
	// Size is the object's length in bytes (decoded: without aws-chunked
	// framing).
	Size() int64
	// Checksums are the verified x-amz-checksum-* values (algorithm, as
	// "crc32", to base64), for the response; valid after the last byte.
	Checksums() map[string]string
}

// bodyRequest is what a decoder needs of the request.
type bodyRequest struct {
	header        http.Header
	body          io.Reader
	contentLength int64            // wire length; -1 unknown
	cred          sigv4.Credential // zero with AuthNone
	signingKey    []byte           // cred's SigV4 signing key; nil with AuthNone
}

// bodyDecoder reads no byte of the body: it checks the headers and returns
// the reader. Its errors are *s3Error (or wrap them).
//
// This is where gateway/internal/payload plugs in: Gateway.decodeBody is
// set to decodePlainBody in New; replacing it with an adapter over
// payload.SpecFromRequest(h, contentLength) (plus SigningKey, SeedSignature
// = cred.Signature, AmzDate, Scope from cred) and payload.NewReader —
// whose *payload.Reader already has Read, Size and Checksums — adds the
// aws-chunked bodies (signed per chunk, or unsigned with trailers), and
// mapping *payload.Error to an *s3Error keeps the answers S3's.
type bodyDecoder func(req bodyRequest) (decodedBody, error)

// checksumAlgorithms are the x-amz-checksum-* algorithms S3 knows, and
// their hashes (the values are base64 of the big-endian digest).
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is the CRC-64/NVME table (polynomial 0xAD93D23594C93659,
// reflected as hash/crc64 takes it).
var crc64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

// decodePlainBody decodes a body sent as is (not aws-chunked): the object
// is the Content-Length bytes, checked against x-amz-content-sha256 (when
// it is a hex SHA-256), Content-MD5 and one x-amz-checksum-* header.
func decodePlainBody(req bodyRequest) (decodedBody, error) {
	h := req.header
	if strings.Contains(strings.ToLower(h.Get("Content-Encoding")), "aws-chunked") ||
		strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return nil, newError("NotImplemented", http.StatusNotImplemented, "aws-chunked request bodies are not implemented by this gateway yet.")
	}
	if req.contentLength < 0 {
		return nil, errMissingContentLength()
	}
	b := &plainBody{r: req.body, size: req.contentLength, remaining: req.contentLength}
	if err := b.expect(h); err != nil {
		return nil, err
	}
	if b.size == 0 {
		// A Writer may never Read an empty body (io.LimitReader(r, 0)
		// does not): check it now.
		if err := b.verify(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// plainBody is decodePlainBody's reader.
type plainBody struct {
	r               io.Reader
	size, remaining int64
	checks          []digestCheck
	checksums       map[string]string // set once verified
	err             error             // sticky
}

// digestCheck is one digest the body must have.
type digestCheck struct {
	h    hash.Hash
	want []byte
	fail func() *s3Error
	alg  string // x-amz-checksum algorithm, "" for the others
	b64  string // the header's value, echoed
}

// expect collects the digests the headers promise.
func (b *plainBody) expect(h http.Header) error {
	if v := h.Get("X-Amz-Content-Sha256"); len(v) == sha256.Size*2 {
		want, err := hex.DecodeString(v)
		if err != nil {
			return errInvalidArgument("x-amz-content-sha256 %q is not a hex SHA-256", v)
		}
		b.checks = append(b.checks, digestCheck{h: sha256.New(), want: want, fail: func() *s3Error {
			return newError("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}})
	}
	if vs, ok := h["Content-Md5"]; ok {
		want, err := base64.StdEncoding.DecodeString(strings.Join(vs, ""))
		if err != nil || len(want) != md5.Size || len(vs) != 1 {
			return newError("InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified was invalid.")
		}
		b.checks = append(b.checks, digestCheck{h: md5.New(), want: want, fail: func() *s3Error {
			return newError("BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received.")
		}})
	}
	found := ""
	for k, vs := range h {
		alg, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-")
		if !ok || alg == "type" || alg == "algorithm" {
			continue
		}
		mk, known := checksumAlgorithms[alg]
		if !known {
			return errInvalidRequest("The x-amz-checksum-%s header names no checksum algorithm S3 knows.", alg)
		}
		if found != "" || len(vs) != 1 {
			return errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		found = alg
		hh := mk()
		want, err := base64.StdEncoding.DecodeString(vs[0])
		if err != nil || len(want) != hh.Size() {
			return errInvalidRequest("Value for x-amz-checksum-%s header is invalid.", alg)
		}
		name := strings.ToUpper(alg)
		b.checks = append(b.checks, digestCheck{h: hh, want: want, alg: alg, b64: vs[0], fail: func() *s3Error {
			return newError("BadDigest", http.StatusBadRequest, "The %s you specified did not match the calculated checksum.", name)
		}})
	}
	return nil
}

func (b *plainBody) Size() int64 { return b.size }

func (b *plainBody) Checksums() map[string]string { return b.checksums }

func (b *plainBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.r.Read(p)
	for _, c := range b.checks {
		c.h.Write(p[:n])
	}
	b.remaining -= int64(n)
	if b.remaining == 0 {
		if verr := b.verify(); verr != nil {
			return 0, verr // the object's last bytes never reach the Writer
		}
		return n, nil
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		// net/http reports a body cut short of its Content-Length as
		// io.ErrUnexpectedEOF.
		b.err = newError("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return 0, b.err
	}
	if err != nil {
		b.err = err
		return n, err
	}
	return n, nil
}

// verify compares the digests, once the whole body went through them.
func (b *plainBody) verify() error {
	sums := map[string]string{}
	for _, c := range b.checks {
		if !bytes.Equal(c.h.Sum(nil), c.want) {
			b.err = c.fail()
			return b.err
		}
		if c.alg != "" {
			sums[c.alg] = c.b64
		}
	}
	b.checksums = sums
	return nil
}
