package payload

import (
	"errors"
	"io"
	"maps"
)

// decoder yields the object bytes of a body in one framing.
type decoder interface {
	// read reads object bytes into p; objLeft (>= len(p) > 0) is how many
	// the object still lacks. It returns n > 0 and no error, or 0 and an
	// error (errShort for an early end).
	read(p []byte, objLeft int64) (int, error)
	// finish reads and checks what follows the object's last byte and
	// returns the trailer's checksums (algorithm -> base64), if any.
	finish() (map[string]string, error)
}

// Reader reads the decoded object bytes of a request body and checks them
// on the way. See NewReader.
type Reader struct {
	dec     decoder
	spec    Spec
	size    int64
	left    int64 // object bytes not yet returned
	digests *digests
	err     error             // sticky: every Read after a failure returns it
	sums    map[string]string // verified checksums, set once all is checked
}

// NewReader returns a reader of the object bytes of body, described by s:
// exactly Size() bytes, then io.EOF.
//
// Every check (chunk and trailer signatures, the hex x-amz-content-sha256,
// Content-MD5, x-amz-checksum-* from the headers or the trailer, the
// framing and the body's length) is done before the object's last byte is
// returned: the Read that would complete the object returns (0, err)
// instead, so an io.ReadFull or io.CopyN caller never holds a complete,
// bad object. Bytes before that may already have been returned; a caller
// must not commit them until Read has given the last byte.
//
// NewReader reads nothing. Its errors are those of SpecFromRequest (s is
// checked again), ErrTooLarge above s.MaxSize, and a non-*Error for a
// signed aws-chunked s without its signing fields.
func NewReader(body io.Reader, s Spec) (*Reader, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := s.checkSigning(); err != nil {
		return nil, err
	}
	r := &Reader{spec: s}
	if s.Chunked() {
		r.size = s.DecodedLength
		r.dec = newChunkedDecoder(body, &s)
	} else {
		r.size = s.ContentLength
		r.dec = &plainDecoder{body: body}
	}
	if s.MaxSize > 0 && r.size > s.MaxSize {
		return nil, tooLarge(r.size, s.MaxSize)
	}
	r.left = r.size
	algs := make([]string, 0, len(s.Checksums)+len(s.Trailer))
	for alg := range s.Checksums {
		algs = append(algs, alg)
	}
	for _, n := range s.Trailer {
		algs = append(algs, checksumAlg(n))
	}
	plainSHA := !s.Chunked() && len(s.ContentSHA256) == 64
	r.digests = newDigests(s.ContentMD5 != "", plainSHA, algs)
	return r, nil
}

// Size is the object's size in bytes: Content-Length for a plain body,
// x-amz-decoded-content-length for an aws-chunked one.
func (r *Reader) Size() int64 { return r.size }

// Read reads object bytes. See NewReader for when it checks what.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left == 0 {
		if r.sums == nil { // an empty object: nothing read yet
			if err := r.finish(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.dec.read(p, r.left)
	if err != nil {
		return 0, r.fail(err)
	}
	r.digests.write(p[:n])
	r.left -= int64(n)
	if r.left == 0 {
		if err := r.finish(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finish runs the checks that need the whole object.
func (r *Reader) finish() error {
	trailer, err := r.dec.finish()
	if err != nil {
		return r.fail(err)
	}
	want := maps.Clone(r.spec.Checksums)
	if want == nil {
		want = make(map[string]string, len(trailer))
	}
	maps.Copy(want, trailer)
	sums, err := r.digests.check(r.spec.ContentMD5, r.spec.ContentSHA256, want)
	if err != nil {
		return r.fail(err)
	}
	r.sums = sums
	return nil
}

// fail makes err sticky, with an early end as ErrIncompleteBody.
func (r *Reader) fail(err error) error {
	if errors.Is(err, errShort) {
		err = incomplete(r.size-r.left, r.size)
	}
	r.err = err
	return err
}

// Verify reports whether the whole object has been read and every check
// passed: nil once Read has returned the last byte (or io.EOF), the check's
// error otherwise. For an empty object it runs the checks itself, which
// matters because io.ReadFull and io.CopyN never call Read for 0 bytes:
// a caller about to commit an object of Size() 0 must call Verify (or
// Read) first.
func (r *Reader) Verify() error {
	if r.err != nil {
		return r.err
	}
	if r.left > 0 {
		return errNotRead
	}
	if r.sums == nil {
		return r.finish()
	}
	return nil
}

// Checksums returns, once the last byte has been read, the verified
// x-amz-checksum-* values (algorithm -> base64) to echo in the response;
// nil before. Content-MD5 and x-amz-content-sha256 are not in it.
func (r *Reader) Checksums() map[string]string {
	if r.sums == nil {
		return nil
	}
	return maps.Clone(r.sums)
}

// plainDecoder reads a body that is the object itself.
type plainDecoder struct {
	body    io.Reader
	pending error // an error that came with data, for the next read
}

func (d *plainDecoder) read(p []byte, _ int64) (int, error) {
	if d.pending != nil {
		return 0, wireErr(d.pending)
	}
	for range 100 { // io.Reader allows (0, nil); do not spin forever on it
		n, err := d.body.Read(p)
		if n > 0 {
			d.pending = err
			return n, nil
		}
		if err != nil {
			return 0, wireErr(err)
		}
	}
	return 0, io.ErrNoProgress
}

// finish checks that the body ends with the object.
func (d *plainDecoder) finish() (map[string]string, error) {
	if d.pending != nil && d.pending != io.EOF {
		return nil, d.pending
	}
	if d.pending == io.EOF {
		return nil, nil
	}
	var b [1]byte
	for range 100 {
		n, err := d.body.Read(b[:])
		if n > 0 {
			return nil, malformed(codeInvalidRequest, "the body is longer than its Content-Length")
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, io.ErrNoProgress
}
