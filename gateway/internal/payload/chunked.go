package payload

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
)

// Limits on the aws-chunked framing. S3 sets none on the chunk size; a
// chunk's data is streamed and hashed as it passes, never buffered, so the
// cap only bounds what one signature covers.
const (
	// MaxChunkSize is the largest chunk accepted.
	MaxChunkSize = 64 << 20
	// MaxChunkLineLen bounds a chunk line: 16 hex digits plus
	// ";chunk-signature=" and 64 hex digits is 97; the rest is room for
	// extensions of unsigned chunks, which are ignored.
	MaxChunkLineLen = 256
	// MaxTrailerLen bounds the trailer section, all lines together.
	MaxTrailerLen = 8 << 10
	// readBufferSize is the decoder's read buffer; larger reads go
	// straight to the caller's slice.
	readBufferSize = 16 << 10
)

// Wire constants of the chunk signatures.
const (
	chunkSigExt        = "chunk-signature="
	trailerSigName     = "x-amz-trailer-signature"
	chunkAlgorithm     = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm   = "AWS4-HMAC-SHA256-TRAILER"
	emptySHA256        = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signatureHexDigits = 64
)

// chunkedDecoder decodes an aws-chunked body (see the package doc) and
// checks its chunk and trailer signatures. The Reader around it counts the
// object bytes and hashes them; the decoder checks the framing against
// the count it is given.
type chunkedDecoder struct {
	br *bufio.Reader
	// sigs: chunk lines carry chunk-signature; verify: check them (with
	// key, amzDate, scope, chaining from prev).
	sigs, verify  bool
	trailer       bool     // a trailer section may follow the final chunk
	trailerSigned bool     // ... and ends with x-amz-trailer-signature
	declared      []string // x-amz-trailer names the trailer must carry
	key           []byte
	amzDate       string
	scope         string
	prev          string // previous signature in the chain (hex)

	inChunk   bool      // a data chunk's line is read, its CRLF is not
	chunkLeft int64     // data bytes of the current chunk not yet read
	chunkSig  string    // signature the current chunk's line gave
	chunkHash hash.Hash // sha256 of the current chunk's data (sigs only)
}

func newChunkedDecoder(body io.Reader, s *Spec) *chunkedDecoder {
	d := &chunkedDecoder{
		br:            bufio.NewReaderSize(body, readBufferSize),
		sigs:          s.signedChunks(),
		trailer:       s.hasTrailer(),
		trailerSigned: s.ContentSHA256 == StreamingSignedTrailer,
		declared:      s.Trailer,
	}
	if d.sigs {
		d.verify = !s.SkipSignatures
		d.chunkHash = sha256.New()
		d.key, d.amzDate, d.scope = s.SigningKey, s.AmzDate, s.Scope
		d.prev = strings.ToLower(s.SeedSignature)
	}
	return d
}

// read reads object bytes into p; objLeft (>= len(p) > 0) is how many the
// object still lacks. It returns n > 0 and no error, or 0 and an error.
func (d *chunkedDecoder) read(p []byte, objLeft int64) (int, error) {
	for d.chunkLeft == 0 {
		if d.inChunk {
			if err := d.endChunk(); err != nil {
				return 0, err
			}
		}
		size, err := d.nextChunk()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			return 0, errShort // the final chunk came before the object's last byte
		}
		if size > objLeft {
			return 0, longer()
		}
	}
	if int64(len(p)) > d.chunkLeft {
		p = p[:d.chunkLeft]
	}
	n, err := d.br.Read(p)
	for tries := 0; n == 0 && err == nil; tries++ { // io.Reader allows (0, nil)
		if tries == 100 {
			return 0, io.ErrNoProgress
		}
		n, err = d.br.Read(p)
	}
	if n == 0 {
		return 0, wireErr(err)
	}
	if d.sigs {
		d.chunkHash.Write(p[:n])
	}
	d.chunkLeft -= int64(n)
	return n, nil
}

// finish reads what follows the object's last byte: the end of the last
// data chunk, the final 0-length chunk, the trailer and the end of the
// body, checking every signature. It returns the trailer's checksums
// (algorithm -> base64).
func (d *chunkedDecoder) finish() (map[string]string, error) {
	if d.inChunk {
		if err := d.endChunk(); err != nil {
			return nil, err
		}
	}
	size, err := d.nextChunk()
	if err != nil {
		return nil, err
	}
	if size != 0 {
		return nil, longer()
	}
	sums, err := d.readTrailer()
	if err != nil {
		return nil, err
	}
	switch _, err := d.br.ReadByte(); {
	case err == nil:
		return nil, malformed(codeInvalidRequest, "the aws-chunked body goes on after its final chunk and trailer")
	case err != io.EOF:
		return nil, err
	}
	return sums, nil
}

// nextChunk reads a chunk line, "SIZE[;chunk-signature=SIG]\r\n", and
// starts the chunk. A 0-length chunk (the final one) has no data, so its
// signature is checked at once.
func (d *chunkedDecoder) nextChunk() (int64, error) {
	line, err := d.readLine(MaxChunkLineLen, "a chunk line")
	if err != nil {
		return 0, err
	}
	sizeHex, ext, hasExt := strings.Cut(line, ";")
	if sizeHex == "" || len(sizeHex) > 16 || !isHex(sizeHex) {
		return 0, malformed(codeInvalidRequest, "the aws-chunked chunk size "+quote(sizeHex)+" is not hexadecimal")
	}
	size, err := strconv.ParseUint(sizeHex, 16, 64)
	if err != nil || size > MaxChunkSize {
		return 0, malformed(codeInvalidArgument, "an aws-chunked chunk of "+quote(sizeHex)+" (hex) bytes is larger than the "+strconv.Itoa(MaxChunkSize)+" bytes accepted")
	}
	if d.sigs {
		sig, ok := strings.CutPrefix(ext, chunkSigExt)
		if !hasExt || !ok || len(sig) != signatureHexDigits || !isHex(sig) {
			return 0, malformed(codeInvalidRequest, "an aws-chunked chunk line lacks ;chunk-signature=<64 hex digits>: "+quote(line))
		}
		d.chunkSig = strings.ToLower(sig)
		d.chunkHash.Reset()
	}
	d.chunkLeft = int64(size)
	d.inChunk = size > 0
	if size == 0 && d.sigs {
		if err := d.checkChunkSig(emptySHA256); err != nil {
			return 0, err
		}
	}
	return int64(size), nil
}

// endChunk reads the CRLF after a data chunk and checks its signature.
func (d *chunkedDecoder) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(d.br, crlf[:]); err != nil {
		return wireErr(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformed(codeInvalidRequest, "an aws-chunked chunk's data is not followed by CRLF (chunk longer than its size?)")
	}
	d.inChunk = false
	if d.sigs {
		return d.checkChunkSig(hex.EncodeToString(d.chunkHash.Sum(nil)))
	}
	return nil
}

// checkChunkSig checks the current chunk's signature, whose data hashes
// to dataHash (hex), and moves the chain on.
func (d *chunkedDecoder) checkChunkSig(dataHash string) error {
	if !d.verify {
		d.prev = d.chunkSig
		return nil
	}
	want := d.sign(chunkAlgorithm + "\n" + d.amzDate + "\n" + d.scope + "\n" + d.prev + "\n" + emptySHA256 + "\n" + dataHash)
	if subtle.ConstantTimeCompare([]byte(want), []byte(d.chunkSig)) != 1 {
		return sigMismatch("the chunk signature we calculated does not match the signature you provided")
	}
	d.prev = want
	return nil
}

func (d *chunkedDecoder) sign(stringToSign string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// readTrailer reads the trailer section after the final chunk line, up to
// and including its blank line, and checks its signature. Without a
// trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) the section must be empty.
func (d *chunkedDecoder) readTrailer() (map[string]string, error) {
	sums := make(map[string]string, len(d.declared))
	var canon bytes.Buffer // "name:value\n" per trailer, what the signature covers
	sig := ""
	total, blanks := 0, 0
	for {
		line, err := d.readLine(MaxTrailerLen, "the trailer")
		if err != nil {
			return nil, err
		}
		if total += len(line) + 2; total > MaxTrailerLen {
			return nil, malformed(codeInvalidRequest, "the aws-chunked trailer is longer than "+strconv.Itoa(MaxTrailerLen)+" bytes")
		}
		if line == "" {
			// minio-go ends its trailer lines with a bare LF and writes
			// CRLF before x-amz-trailer-signature: one blank line
			// between the trailers and the signature is allowed.
			if d.trailerSigned && sig == "" && len(sums) > 0 && blanks == 0 {
				blanks++
				continue
			}
			break
		}
		if !d.trailer {
			return nil, malformed(codeInvalidRequest, "the aws-chunked body has a trailer, but x-amz-content-sha256 announces none")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, malformed(codeInvalidRequest, "the aws-chunked trailer line "+quote(line)+" is not name:value")
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		switch {
		case sig != "":
			return nil, malformed(codeInvalidRequest, "the aws-chunked trailer goes on after "+trailerSigName)
		case name == trailerSigName:
			if !d.trailerSigned || len(value) != signatureHexDigits || !isHex(value) {
				return nil, malformed(codeInvalidRequest, "unexpected or malformed "+trailerSigName)
			}
			sig = strings.ToLower(value)
			continue
		case !contains(d.declared, name):
			return nil, malformed(codeInvalidRequest, "the trailer "+quote(name)+" is not declared in x-amz-trailer")
		}
		alg := checksumAlg(name)
		if _, dup := sums[alg]; dup {
			return nil, malformed(codeInvalidRequest, "the trailer "+quote(name)+" appears twice")
		}
		if !validChecksum(alg, value) {
			return nil, malformed(codeInvalidRequest, "value for "+name+" trailing header is invalid")
		}
		sums[alg] = value
		canon.WriteString(name + ":" + value + "\n")
	}
	for _, n := range d.declared {
		if _, ok := sums[checksumAlg(n)]; !ok {
			return nil, malformed(codeInvalidRequest, "the trailer "+quote(n)+" declared in x-amz-trailer is missing")
		}
	}
	if d.trailerSigned {
		if err := d.checkTrailerSig(sig, canon.Bytes()); err != nil {
			return nil, err
		}
	}
	return sums, nil
}

func (d *chunkedDecoder) checkTrailerSig(sig string, canon []byte) error {
	if sig == "" {
		return malformed(codeInvalidRequest, "the aws-chunked trailer lacks "+trailerSigName)
	}
	if !d.verify {
		return nil
	}
	sum := sha256.Sum256(canon)
	want := d.sign(trailerAlgorithm + "\n" + d.amzDate + "\n" + d.scope + "\n" + d.prev + "\n" + hex.EncodeToString(sum[:]))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return sigMismatch("the trailer signature we calculated does not match the signature you provided")
	}
	return nil
}

// readLine reads a line of at most max bytes ending in LF (CRLF or a bare
// LF, which minio-go writes in trailers) and returns it without them.
// The string is a copy: the buffer moves on.
func (d *chunkedDecoder) readLine(max int, where string) (string, error) {
	b, err := d.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(b) > max+2:
		return "", malformed(codeInvalidRequest, where+" of the aws-chunked body is longer than "+strconv.Itoa(max)+" bytes")
	case err != nil:
		return "", wireErr(err)
	}
	b = b[:len(b)-1]
	b, _ = bytes.CutSuffix(b, []byte{'\r'})
	if len(b) > max {
		return "", malformed(codeInvalidRequest, where+" of the aws-chunked body is longer than "+strconv.Itoa(max)+" bytes")
	}
	return string(b), nil
}

// wireErr maps an early end of the body to errShort and keeps any other
// error of the body's reader as it is.
func wireErr(err error) error {
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return errShort
	}
	return err
}

func longer() error {
	return malformed(codeInvalidRequest, "the aws-chunked body carries more than x-amz-decoded-content-length bytes")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
