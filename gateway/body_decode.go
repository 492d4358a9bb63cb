package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/ringcache/ringcache/gateway/internal/payload"
	"github.com/ringcache/ringcache/gateway/internal/sigv4"
	"github.com/ringcache/ringcache/understore"
)

// decodedBody is a PutObject or UploadPart body as object bytes, verified
// as they stream (gateway/internal/payload): every check is made before
// the last byte is returned (the Read that would complete the object
// returns (0, err) instead), so a Writer that reads exactly Size bytes
// never stores a bad body.
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
type bodyDecoder func(req bodyRequest) (decodedBody, error)

// checksumNames are the x-amz-checksum-* algorithms S3 knows.
var checksumNames = map[string]bool{
	payload.CRC32: true, payload.CRC32C: true, payload.CRC64NVME: true, payload.SHA1: true, payload.SHA256: true,
}

// decodePayload decodes a body in any form current S3 clients send: plain
// (checked against a hex x-amz-content-sha256, Content-MD5 and one
// x-amz-checksum-* header) or aws-chunked, signed per chunk (every
// signature checked, chained from the request's) or unsigned with a
// checksum trailer. Without a signing key (--s3-auth none) chunk
// signatures are not checked.
func decodePayload(req bodyRequest) (decodedBody, error) {
	spec, err := payload.SpecFromRequest(req.header, req.contentLength)
	if err != nil {
		return nil, payloadErr(err)
	}
	if req.signingKey != nil {
		spec.SetCredential(req.signingKey, req.cred)
	} else {
		spec.SkipSignatures = true
	}
	spec.MaxSize = understore.MaxPutSize
	r, err := payload.NewReader(req.body, spec)
	if err != nil {
		return nil, payloadErr(err)
	}
	if r.Size() == 0 {
		// A Writer may never Read an empty body: check it now.
		if err := r.Verify(); err != nil {
			return nil, payloadErr(err)
		}
	}
	return payloadBody{r}, nil
}

// payloadBody answers the payload package's errors as S3 errors.
type payloadBody struct{ *payload.Reader }

func (b payloadBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = payloadErr(err)
	}
	return n, err
}

// payloadErr maps a payload error to its S3 answer; other errors (the
// client's connection failing) pass unchanged.
func payloadErr(err error) error {
	var pe *payload.Error
	if !errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, payload.ErrMissingLength) {
		return errMissingContentLength()
	}
	e := newError(pe.Code, pe.Status, "%s", pe.Msg)
	e.cause = err
	return e
}
