package payload

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/sigv4"
)

// Values of x-amz-content-sha256 besides a hex SHA-256. The STREAMING-*
// ones announce an aws-chunked body.
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	StreamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
)

// Spec describes a request body, from its headers (SpecFromRequest) and,
// for a signed aws-chunked body, from the request's verified signature
// (SetCredential).
type Spec struct {
	// ContentSHA256 is x-amz-content-sha256 as signed: a hex SHA-256 (the
	// body is checked against it), UnsignedPayload, or one of the
	// Streaming* values (an aws-chunked body). "" means unsigned (--s3-auth
	// none, or a presigned URL without X-Amz-Content-Sha256).
	ContentSHA256 string
	// ContentEncoding is the Content-Encoding header (it lists aws-chunked
	// for chunked bodies; the framing is decided by ContentSHA256).
	ContentEncoding string
	// ContentLength is the body's length on the wire, -1 if unknown.
	ContentLength int64
	// DecodedLength is x-amz-decoded-content-length, the object size of an
	// aws-chunked body; -1 if absent.
	DecodedLength int64
	// ContentMD5 is the Content-MD5 header (base64), "" if absent.
	ContentMD5 string
	// Checksums are the x-amz-checksum-* headers: algorithm (CRC32, ...)
	// -> base64 value.
	Checksums map[string]string
	// Trailer lists the x-amz-trailer names, lower-case, e.g.
	// "x-amz-checksum-crc32": the aws-chunked trailer must carry them.
	Trailer []string

	// The signing fields verify STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)
	// bodies; SetCredential fills them from the request's signature.
	SigningKey    []byte // the SigV4 signing key (sigv4.Verifier.SigningKey)
	SeedSignature string // the request's signature, hex: the chain's start
	AmzDate       string // signing time, ISO 8601 basic (20060102T150405Z)
	Scope         string // DATE/REGION/s3/aws4_request

	// SkipSignatures reads the chunk signatures of a signed aws-chunked
	// body without checking them: for --s3-auth none, which has no keys.
	// With it false, a signed aws-chunked body needs the signing fields.
	SkipSignatures bool
	// MaxSize, if > 0, is the largest object accepted (ErrTooLarge above).
	MaxSize int64
}

// amzDateLayout is X-Amz-Date's format.
const amzDateLayout = "20060102T150405Z"

// SetCredential fills s's signing fields from a request verified with
// cred and the signing key the verifier derives for it
// (sigv4.Verifier.SigningKey).
func (s *Spec) SetCredential(signingKey []byte, cred sigv4.Credential) {
	s.SigningKey = signingKey
	s.SeedSignature = cred.Signature
	s.AmzDate = cred.Time.UTC().Format(amzDateLayout)
	s.Scope = cred.Date + "/" + cred.Region + "/" + cred.Service + "/aws4_request"
}

// ObjectContentEncoding is the Content-Encoding to store with the object:
// ContentEncoding without aws-chunked, which describes the request's
// framing, not the object (S3 drops it the same way).
func (s *Spec) ObjectContentEncoding() string {
	var keep []string
	for v := range strings.SplitSeq(s.ContentEncoding, ",") {
		if v = strings.TrimSpace(v); v != "" && !strings.EqualFold(v, "aws-chunked") {
			keep = append(keep, v)
		}
	}
	return strings.Join(keep, ",")
}

// Chunked reports whether the body is aws-chunked.
func (s *Spec) Chunked() bool { return strings.HasPrefix(s.ContentSHA256, "STREAMING-") }

// signedChunks reports whether every chunk carries a chunk-signature.
func (s *Spec) signedChunks() bool {
	return s.ContentSHA256 == StreamingSigned || s.ContentSHA256 == StreamingSignedTrailer
}

// hasTrailer reports whether the aws-chunked body may end with a trailer.
func (s *Spec) hasTrailer() bool {
	return s.ContentSHA256 == StreamingUnsignedTrailer || s.ContentSHA256 == StreamingSignedTrailer
}

// SpecFromRequest reads a body's Spec from the request headers h and the
// request's Content-Length (-1 if unknown). It checks what can be checked
// without the body: the form of x-amz-content-sha256, Content-MD5 (else
// ErrInvalidDigest), the x-amz-checksum-* and x-amz-trailer headers, and
// that they fit together. Every error is an *Error. The signing fields are
// left for SetCredential.
func SpecFromRequest(h http.Header, contentLength int64) (Spec, error) {
	s := Spec{ContentLength: contentLength, DecodedLength: -1}
	if contentLength < 0 {
		s.ContentLength = -1
	}
	var err error
	if s.ContentSHA256, err = single(h, "X-Amz-Content-Sha256"); err != nil {
		return Spec{}, err
	}
	s.ContentEncoding = strings.Join(h.Values("Content-Encoding"), ",")
	if s.ContentMD5, err = single(h, "Content-Md5"); err != nil {
		return Spec{}, err
	}
	dl, err := single(h, "X-Amz-Decoded-Content-Length")
	if err != nil {
		return Spec{}, err
	}
	if dl != "" {
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 || len(dl) > 19 {
			return Spec{}, malformed(codeInvalidArgument, "x-amz-decoded-content-length "+quote(dl)+" is not a non-negative integer")
		}
		s.DecodedLength = n
	}
	if s.Checksums, err = headerChecksums(h); err != nil {
		return Spec{}, err
	}
	if s.Trailer, err = trailerNames(h); err != nil {
		return Spec{}, err
	}
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// single returns the one value of header k, "" if absent; several values
// are refused: each of these headers means one thing.
func single(h http.Header, k string) (string, error) {
	vs := h[k]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", malformed(codeInvalidArgument, "the "+k+" header appears more than once")
}

// notDigests are x-amz-checksum-* headers that name no digest: the
// checksum type and algorithm of CreateMultipartUpload, the checksum mode
// of GetObject.
var notDigests = map[string]bool{"x-amz-checksum-type": true, "x-amz-checksum-algorithm": true, "x-amz-checksum-mode": true}

// headerChecksums collects the x-amz-checksum-* headers. Values are
// checked by check.
func headerChecksums(h http.Header) (map[string]string, error) {
	var sums map[string]string
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, checksumPrefix) || notDigests[lk] {
			continue
		}
		alg := checksumAlg(lk)
		if alg == "" {
			return nil, malformed(codeInvalidArgument, "unknown checksum header "+quote(lk))
		}
		if len(vs) != 1 {
			return nil, malformed(codeInvalidArgument, "the "+lk+" header appears more than once")
		}
		if sums == nil {
			sums = make(map[string]string)
		}
		sums[alg] = vs[0]
	}
	return sums, nil
}

// trailerNames parses x-amz-trailer: a comma-separated list of
// x-amz-checksum-* names (in one or several header lines).
func trailerNames(h http.Header) ([]string, error) {
	var names []string
	for _, v := range h.Values("X-Amz-Trailer") {
		for n := range strings.SplitSeq(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			if checksumAlg(n) == "" {
				return nil, malformed(codeInvalidArgument, "x-amz-trailer names "+quote(n)+", which is not an x-amz-checksum-* header")
			}
			names = append(names, n)
		}
	}
	return names, nil
}

// check reports a Spec that no body can satisfy or that S3 refuses.
func (s *Spec) check() error {
	switch v := s.ContentSHA256; {
	case v == "", v == UnsignedPayload, v == StreamingUnsignedTrailer, v == StreamingSigned, v == StreamingSignedTrailer:
	case len(v) == 64 && isHex(v):
	case strings.HasPrefix(v, "STREAMING-"):
		return malformed(codeInvalidRequest, "x-amz-content-sha256 "+quote(v)+" is not supported (only AWS4-HMAC-SHA256 streaming signatures)")
	default:
		return malformed(codeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) or a valid sha256 value")
	}
	if s.ContentMD5 != "" && !validMD5(s.ContentMD5) {
		return invalidDigest("the Content-MD5 you specified is not valid")
	}
	algs := make([]string, 0, len(s.Checksums)+len(s.Trailer))
	for alg, v := range s.Checksums {
		if digestSize(alg) == 0 {
			return malformed(codeInvalidArgument, "unknown checksum algorithm "+quote(alg))
		}
		if !validChecksum(alg, v) {
			return malformed(codeInvalidRequest, "value for x-amz-checksum-"+alg+" header is invalid")
		}
		algs = append(algs, alg)
	}
	for _, n := range s.Trailer {
		alg := checksumAlg(n)
		if alg == "" || n != checksumPrefix+alg {
			return malformed(codeInvalidArgument, "x-amz-trailer names "+quote(n)+", which is not a lower-case x-amz-checksum-* header")
		}
		algs = append(algs, alg)
	}
	if len(algs) > 1 {
		sort.Strings(algs)
		return malformed(codeInvalidRequest, "expecting a single x-amz-checksum- header; multiple checksum types are not allowed (got "+strings.Join(algs, ",")+")")
	}
	if len(s.Trailer) > 0 && !s.hasTrailer() {
		return malformed(codeInvalidRequest, "x-amz-trailer needs x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
	}
	if s.ContentSHA256 == StreamingSignedTrailer && len(s.Trailer) == 0 {
		return malformed(codeInvalidRequest, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER needs an x-amz-trailer header")
	}
	if s.Chunked() && s.DecodedLength < 0 {
		return missingLength("an aws-chunked body needs x-amz-decoded-content-length")
	}
	if s.Chunked() && s.ContentLength >= 0 && s.DecodedLength > s.ContentLength {
		return malformed(codeInvalidArgument, "x-amz-decoded-content-length is larger than Content-Length")
	}
	if !s.Chunked() && s.ContentLength < 0 {
		return missingLength("you must provide the Content-Length HTTP header")
	}
	return nil
}

// checkSigning reports a signed aws-chunked Spec whose signing fields are
// unset: a gateway bug, not the client's, so it is not an *Error.
func (s *Spec) checkSigning() error {
	if !s.signedChunks() || s.SkipSignatures {
		return nil
	}
	if len(s.SigningKey) == 0 || len(s.SeedSignature) != 64 || !isHex(s.SeedSignature) || s.AmzDate == "" || s.Scope == "" {
		return errSigningFields
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
