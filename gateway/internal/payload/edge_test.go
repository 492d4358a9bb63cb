package payload

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// chunkSpec is the Spec of an aws-chunked body signed by chunkedBody.
func chunkSpec(form string, decoded int, trailer ...string) Spec {
	key, seed, date, scope := testSigning()
	return Spec{
		ContentSHA256: form, ContentEncoding: "aws-chunked", ContentLength: -1, DecodedLength: int64(decoded),
		Trailer: trailer, SigningKey: key, SeedSignature: seed, AmzDate: date, Scope: scope,
	}
}

func plainSpec(n int) Spec {
	return Spec{ContentSHA256: UnsignedPayload, ContentLength: int64(n), DecodedLength: -1}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestChunkedEdgeCases(t *testing.T) {
	data := randBytes(7, 200_000)
	crc := refSum(CRC32, data)
	const cn = "x-amz-checksum-crc32"
	signed := chunkedBody{signed: true, chunks: split(len(data), 64<<10)}
	signedTr := chunkedBody{signed: true, chunks: split(len(data), 64<<10), names: []string{cn}, trailer: map[string]string{cn: crc}, trailSig: true}
	unsignedTr := chunkedBody{chunks: split(len(data), 8192), names: []string{cn}, trailer: map[string]string{cn: crc}}
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not in body", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	lastSig := func(b []byte) []byte {
		b = bytes.Clone(b)
		offs := signatureOffsets(b)
		i := offs[len(offs)-1]
		b[i] = map[bool]byte{true: '1', false: '0'}[b[i] == '0']
		return b
	}
	cases := []struct {
		name string
		spec Spec
		body []byte
		want error
		code string
	}{
		{"signed", chunkSpec(StreamingSigned, len(data)), signed.build(t, data), nil, ""},
		{"signed one chunk", chunkSpec(StreamingSigned, len(data)), chunkedBody{signed: true, chunks: []int{len(data)}}.build(t, data), nil, ""},
		{"signed many tiny chunks", chunkSpec(StreamingSigned, 1000), chunkedBody{signed: true, chunks: split(1000, 7)}.build(t, data[:1000]), nil, ""},
		{"signed empty", chunkSpec(StreamingSigned, 0), chunkedBody{signed: true}.build(t, nil), nil, ""},
		{"signed trailer", chunkSpec(StreamingSignedTrailer, len(data), cn), signedTr.build(t, data), nil, ""},
		{"signed trailer LF", chunkSpec(StreamingSignedTrailer, len(data), cn), func() chunkedBody { c := signedTr; c.lf = true; return c }().build(t, data), nil, ""},
		{"unsigned trailer", chunkSpec(StreamingUnsignedTrailer, len(data), cn), unsignedTr.build(t, data), nil, ""},
		{"unsigned no trailer", chunkSpec(StreamingUnsignedTrailer, len(data)), chunkedBody{chunks: split(len(data), 65536)}.build(t, data), nil, ""},
		{"unsigned empty with trailer", chunkSpec(StreamingUnsignedTrailer, 0, cn), chunkedBody{names: []string{cn}, trailer: map[string]string{cn: refSum(CRC32, nil)}}.build(t, nil), nil, ""},
		{"unsigned extension ignored", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5;ext=1\r\nhello\r\n0\r\n\r\n"), nil, ""},

		{"decoded length too large", chunkSpec(StreamingSigned, len(data)+1), signed.build(t, data), ErrIncompleteBody, "IncompleteBody"},
		{"decoded length too small", chunkSpec(StreamingSigned, len(data)-1), signed.build(t, data), ErrMalformed, "InvalidRequest"},
		{"decoded length too small by a chunk", chunkSpec(StreamingUnsignedTrailer, 10), []byte("5\r\nhello\r\n5\r\nworld\r\n5\r\nextra\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"truncated in data", chunkSpec(StreamingSigned, len(data)), signed.build(t, data)[:100_000], ErrIncompleteBody, "IncompleteBody"},
		{"truncated in chunk line", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5\r\nhello\r\n0"), ErrIncompleteBody, ""},
		{"truncated before CRLF", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5\r\nhello"), ErrIncompleteBody, ""},
		{"truncated before last CRLF", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5\r\nhello\r\n0\r\n"), ErrIncompleteBody, ""},
		{"truncated in trailer", chunkSpec(StreamingUnsignedTrailer, len(data), cn), unsignedTr.build(t, data)[:len(unsignedTr.build(t, data))-3], ErrIncompleteBody, ""},
		{"empty body", chunkSpec(StreamingUnsignedTrailer, 0), nil, ErrIncompleteBody, ""},
		{"garbage after the end", chunkSpec(StreamingSigned, len(data)), append(signed.build(t, data), 'x'), ErrMalformed, ""},
		{"second body after the end", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5\r\nhello\r\n0\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"chunk line too long", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5;" + strings.Repeat("e", 300) + "\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"chunk line without LF", chunkSpec(StreamingUnsignedTrailer, 5), []byte(strings.Repeat("5", 20000)), ErrMalformed, ""},
		{"chunk too large", chunkSpec(StreamingUnsignedTrailer, MaxChunkSize+1), []byte("4000001\r\n"), ErrMalformed, "InvalidArgument"},
		{"chunk size 17 digits", chunkSpec(StreamingUnsignedTrailer, 5), []byte("00000000000000005\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"chunk size not hex", chunkSpec(StreamingUnsignedTrailer, 5), []byte("zz\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"chunk size empty", chunkSpec(StreamingUnsignedTrailer, 5), []byte(";x\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"chunk size negative", chunkSpec(StreamingUnsignedTrailer, 5), []byte("-5\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"data longer than chunk size", chunkSpec(StreamingUnsignedTrailer, 4), []byte("4\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"data without CRLF", chunkSpec(StreamingUnsignedTrailer, 5), []byte("5\r\nhello0\r\n\r\n"), ErrMalformed, ""},
		{"missing chunk-signature", chunkSpec(StreamingSigned, 5), []byte("5\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"short chunk-signature", chunkSpec(StreamingSigned, 5), []byte("5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n"), ErrMalformed, ""},
		{"other extension on a signed chunk", chunkSpec(StreamingSigned, len(data)), replace(signed.build(t, data), ";chunk-signature=", ";x=1;chunk-signature="), ErrMalformed, ""},
		{"final chunk signature", chunkSpec(StreamingSigned, len(data)), lastSig(signed.build(t, data)), ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"final chunk signature, trailer form", chunkSpec(StreamingSignedTrailer, len(data), cn), func() []byte {
			b := signedTr.build(t, data)
			i := bytes.LastIndex(b, []byte("0;chunk-signature=")) + len("0;chunk-signature=")
			b[i] = map[bool]byte{true: '1', false: '0'}[b[i] == '0']
			return b
		}(), ErrSignatureDoesNotMatch, ""},
		{"chunks reordered", chunkSpec(StreamingSigned, 20), func() []byte {
			b := chunkedBody{signed: true, chunks: []int{10, 10}}.build(t, data[:20])
			lines := bytes.SplitAfterN(b, []byte("\r\n"), 5) // line1 data1 line2 data2 rest
			return bytes.Join([][]byte{lines[2], lines[3], lines[0], lines[1], lines[4]}, nil)
		}(), ErrSignatureDoesNotMatch, ""},
		{"signature upper-case", chunkSpec(StreamingSigned, len(data)), func() []byte {
			b := signed.build(t, data)
			for _, off := range signatureOffsets(b) {
				copy(b[off:off+64], bytes.ToUpper(b[off:off+64]))
			}
			return b
		}(), nil, ""},
		{"checksum mismatch in trailer", chunkSpec(StreamingUnsignedTrailer, len(data), cn), replace(unsignedTr.build(t, data), crc, refSum(CRC32, data[1:])), ErrBadDigest, "BadDigest"},
		{"trailer value invalid", chunkSpec(StreamingUnsignedTrailer, len(data), cn), replace(unsignedTr.build(t, data), crc, "AAAA"), ErrMalformed, ""},
		{"trailer not declared", chunkSpec(StreamingUnsignedTrailer, len(data)), unsignedTr.build(t, data), ErrMalformed, ""},
		{"declared trailer missing", chunkSpec(StreamingUnsignedTrailer, len(data), cn), chunkedBody{chunks: []int{len(data)}}.build(t, data), ErrMalformed, ""},
		{"trailer twice", chunkSpec(StreamingUnsignedTrailer, 5, cn), []byte("5\r\nhello\r\n0\r\n" + cn + ":" + refSum(CRC32, []byte("hello")) + "\r\n" + cn + ":" + refSum(CRC32, []byte("hello")) + "\r\n\r\n"), ErrMalformed, ""},
		{"trailer without colon", chunkSpec(StreamingUnsignedTrailer, 5, cn), []byte("5\r\nhello\r\n0\r\nnocolon\r\n\r\n"), ErrMalformed, ""},
		{"trailer too long", chunkSpec(StreamingUnsignedTrailer, 5, cn), []byte("5\r\nhello\r\n0\r\n" + strings.Repeat("x-amz-meta:aaaaaaaaaaaaaaaaaaaa\r\n", 400) + "\r\n"), ErrMalformed, ""},
		{"trailer in a form without one", chunkSpec(StreamingSigned, len(data)), replace(signed.build(t, data), "\r\n\r\n", "\r\n"+cn+":"+crc+"\r\n\r\n"), ErrMalformed, ""},
		{"trailer signature missing", chunkSpec(StreamingSignedTrailer, len(data), cn), func() chunkedBody { c := signedTr; c.trailSig = false; return c }().build(t, data), ErrIncompleteBody, ""},
		{"trailer signature missing, end", chunkSpec(StreamingSignedTrailer, len(data), cn), append(func() chunkedBody { c := signedTr; c.trailSig = false; return c }().build(t, data), "\r\n"...), ErrMalformed, ""},
		{"trailer signature in unsigned form", chunkSpec(StreamingUnsignedTrailer, 5, cn), []byte("5\r\nhello\r\n0\r\n" + cn + ":" + refSum(CRC32, []byte("hello")) + "\r\nx-amz-trailer-signature:" + strings.Repeat("a", 64) + "\r\n\r\n"), ErrMalformed, ""},
		{"trailer after signature", chunkSpec(StreamingSignedTrailer, len(data), cn), replace(signedTr.build(t, data), "\r\n\r\n", "\r\nx-amz-meta-a:b\r\n\r\n"), ErrMalformed, ""},
		{"trailer signature wrong", chunkSpec(StreamingSignedTrailer, len(data), cn), func() []byte {
			b := signedTr.build(t, data)
			i := bytes.LastIndex(b, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")
			b[i] = map[bool]byte{true: '1', false: '0'}[b[i] == '0']
			return b
		}(), ErrSignatureDoesNotMatch, "SignatureDoesNotMatch"},
		{"header checksum on chunked", func() Spec {
			s := chunkSpec(StreamingSigned, len(data))
			s.Checksums = map[string]string{CRC32: crc}
			return s
		}(), signed.build(t, data), nil, ""},
		{"header checksum on chunked, mismatch", func() Spec {
			s := chunkSpec(StreamingSigned, len(data))
			s.Checksums = map[string]string{CRC32: refSum(CRC32, data[1:])}
			return s
		}(), signed.build(t, data), ErrBadDigest, "BadDigest"},
		{"content-md5 on chunked, mismatch", func() Spec {
			s := chunkSpec(StreamingUnsignedTrailer, len(data), cn)
			sum := md5.Sum(data[1:])
			s.ContentMD5 = b64(sum[:])
			return s
		}(), unsignedTr.build(t, data), ErrBadDigest, "BadDigest"},
		{"skip signatures", func() Spec {
			s := chunkSpec(StreamingSigned, len(data))
			s.SkipSignatures = true
			s.SigningKey = nil
			return s
		}(), lastSig(signed.build(t, data)), nil, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(i)
			got, r, err := decode(t, c.body, c.spec, seed)
			wantErr(t, err, c.want, c.code)
			if c.want != nil {
				checkNeverComplete(t, c.body, c.spec)
				return
			}
			if int64(len(got)) != c.spec.DecodedLength || !bytes.Equal(got, data[:len(got)]) && c.spec.DecodedLength != 5 {
				t.Fatalf("decoded %d bytes, want %d", len(got), c.spec.DecodedLength)
			}
			if len(c.spec.Trailer) > 0 && r.Checksums()[CRC32] == "" {
				t.Fatalf("Checksums %v", r.Checksums())
			}
		})
	}
}

// checkNeverComplete reads a failing body with io.ReadFull and io.CopyN,
// which drop or hide an error that comes with the last byte: both must
// fail.
func checkNeverComplete(t *testing.T, body []byte, s Spec) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(body), s)
	if err != nil {
		return
	}
	buf := make([]byte, r.Size())
	if r.Size() == 0 {
		if err := r.Verify(); err == nil {
			t.Fatal("Verify accepts a bad empty body")
		}
		return
	}
	if n, err := io.ReadFull(r, buf); err == nil {
		t.Fatalf("io.ReadFull read all %d bytes of a bad body without error", n)
	}
	r, _ = NewReader(bytes.NewReader(body), s)
	if n, err := io.CopyN(io.Discard, r, r.Size()); err == nil {
		t.Fatalf("io.CopyN copied all %d bytes of a bad body without error", n)
	}
}

func TestPlainEdgeCases(t *testing.T) {
	data := randBytes(11, 100_000)
	sha := sha256.Sum256(data)
	md := md5.Sum(data)
	withSum := func(s Spec, alg, v string) Spec { s.Checksums = map[string]string{alg: v}; return s }
	cases := []struct {
		name string
		spec Spec
		body []byte
		want error
		code string
	}{
		{"unsigned", plainSpec(len(data)), data, nil, ""},
		{"auth none", Spec{ContentLength: int64(len(data))}, data, nil, ""},
		{"empty", plainSpec(0), nil, nil, ""},
		{"sha256", Spec{ContentSHA256: hex.EncodeToString(sha[:]), ContentLength: int64(len(data))}, data, nil, ""},
		{"sha256 upper-case", Spec{ContentSHA256: strings.ToUpper(hex.EncodeToString(sha[:])), ContentLength: int64(len(data))}, data, nil, ""},
		{"sha256 mismatch", Spec{ContentSHA256: hex.EncodeToString(sha[:]), ContentLength: int64(len(data) - 1)}, data[:len(data)-1], ErrBadDigest, "XAmzContentSHA256Mismatch"},
		{"sha256 of empty, body empty", Spec{ContentSHA256: emptySHA256}, nil, nil, ""},
		{"sha256 mismatch, empty", Spec{ContentSHA256: hex.EncodeToString(sha[:])}, nil, ErrBadDigest, "XAmzContentSHA256Mismatch"},
		{"md5", func() Spec { s := plainSpec(len(data)); s.ContentMD5 = b64(md[:]); return s }(), data, nil, ""},
		{"md5 mismatch", func() Spec { s := plainSpec(len(data)); s.ContentMD5 = b64(md[:]); return s }(), append(bytes.Clone(data[1:]), 'x'), ErrBadDigest, "BadDigest"},
		{"md5 malformed", func() Spec { s := plainSpec(len(data)); s.ContentMD5 = "abc"; return s }(), data, ErrInvalidDigest, "InvalidDigest"},
		{"short body", plainSpec(len(data) + 1), data, ErrIncompleteBody, "IncompleteBody"},
		{"long body", plainSpec(len(data) - 1), data, ErrMalformed, ""},
		{"too large", func() Spec { s := plainSpec(len(data)); s.MaxSize = int64(len(data) - 1); return s }(), data, ErrTooLarge, "EntityTooLarge"},
		{"max size exactly", func() Spec { s := plainSpec(len(data)); s.MaxSize = int64(len(data)); return s }(), data, nil, ""},
		{"no length", Spec{ContentSHA256: UnsignedPayload, ContentLength: -1}, data, ErrMissingLength, "MissingContentLength"},
	}
	for _, alg := range []string{CRC32, CRC32C, CRC64NVME, SHA1, SHA256} {
		h := newHash(alg)
		h.Write(data)
		good := b64(h.Sum(nil))
		h.Reset()
		h.Write(data[:len(data)-1])
		bad := b64(h.Sum(nil))
		cases = append(cases,
			struct {
				name string
				spec Spec
				body []byte
				want error
				code string
			}{alg, withSum(plainSpec(len(data)), alg, good), data, nil, ""},
			struct {
				name string
				spec Spec
				body []byte
				want error
				code string
			}{alg + " mismatch", withSum(plainSpec(len(data)), alg, bad), data, ErrBadDigest, "BadDigest"},
		)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, r, err := decode(t, c.body, c.spec, uint64(i))
			wantErr(t, err, c.want, c.code)
			if c.want != nil {
				checkNeverComplete(t, c.body, c.spec)
				return
			}
			if !bytes.Equal(got, c.body) {
				t.Fatalf("got %d bytes, want %d", len(got), len(c.body))
			}
			for alg, v := range c.spec.Checksums {
				if r.Checksums()[alg] != v {
					t.Fatalf("Checksums %v, want %s %s", r.Checksums(), alg, v)
				}
			}
			if err := r.Verify(); err != nil {
				t.Fatalf("Verify after the end: %v", err)
			}
			if _, err := r.Read(make([]byte, 10)); err != io.EOF {
				t.Fatalf("Read after the end: %v, want io.EOF", err)
			}
		})
	}
}

// TestCRC64NVMECheckValue checks the CRC-64/NVME parameters against the
// catalogued check value (CRC of "123456789").
func TestCRC64NVMECheckValue(t *testing.T) {
	h := newHash(CRC64NVME)
	h.Write([]byte("123456789"))
	if got := binary.BigEndian.Uint64(h.Sum(nil)); got != 0xae8b14860a799888 {
		t.Fatalf("crc64nvme(123456789) = %#x, want 0xae8b14860a799888", got)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestBodyErrorsPassThrough: an error of the body's reader other than
// an early end reaches the caller as it is (the gateway tells a client
// that went away from a bad body).
func TestBodyErrorsPassThrough(t *testing.T) {
	boom := errors.New("connection reset")
	for _, s := range []Spec{plainSpec(10), chunkSpec(StreamingUnsignedTrailer, 10)} {
		r, err := NewReader(io.MultiReader(strings.NewReader("5\r\nhel"), errReader{boom}), s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); !errors.Is(err, boom) {
			t.Fatalf("%s: error %v, want %v", s.ContentSHA256, err, boom)
		}
		if _, err := r.Read(make([]byte, 1)); !errors.Is(err, boom) {
			t.Fatalf("%s: error not sticky: %v", s.ContentSHA256, err)
		}
	}
}

func TestMissingSigningFields(t *testing.T) {
	s := chunkSpec(StreamingSigned, 5)
	s.SigningKey = nil
	_, err := NewReader(strings.NewReader(""), s)
	var pe *Error
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("error %v, want a non-*Error (a gateway bug)", err)
	}
}

func TestChecksumsBeforeEnd(t *testing.T) {
	s := plainSpec(5)
	s.Checksums = map[string]string{CRC32: refSum(CRC32, []byte("hello"))}
	r, err := NewReader(strings.NewReader("hello"), s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Checksums() != nil || r.Verify() == nil {
		t.Fatal("Checksums or Verify before reading")
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(r, b); err != nil || r.Checksums() != nil {
		t.Fatalf("after 4 bytes: %v, %v", err, r.Checksums())
	}
	if _, err := io.ReadFull(r, b[:1]); err != nil || r.Checksums()[CRC32] == "" {
		t.Fatalf("after 5 bytes: %v, %v", err, r.Checksums())
	}
}

func TestSpecFromRequest(t *testing.T) {
	crc := refSum(CRC32, []byte("x"))
	md := md5.Sum([]byte("x"))
	cases := []struct {
		name string
		h    map[string]string
		cl   int64
		want error
		code string
	}{
		{"plain", map[string]string{"X-Amz-Content-Sha256": UnsignedPayload}, 1, nil, ""},
		{"no sha256 header", map[string]string{}, 1, nil, ""},
		{"sdk unsigned trailer", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "1", "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm": "CRC32"}, 40, nil, ""},
		{"trailer name mixed case", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "1", "X-Amz-Trailer": " X-Amz-Checksum-CRC32 "}, 40, nil, ""},
		{"checksum header", map[string]string{"X-Amz-Checksum-Crc32": crc}, 1, nil, ""},
		{"checksum type and algorithm are not digests", map[string]string{"X-Amz-Checksum-Algorithm": "CRC32", "X-Amz-Checksum-Type": "FULL_OBJECT"}, 1, nil, ""},
		{"md5", map[string]string{"Content-Md5": b64(md[:])}, 1, nil, ""},
		{"md5 malformed", map[string]string{"Content-Md5": "not base64!"}, 1, ErrInvalidDigest, "InvalidDigest"},
		{"md5 wrong length", map[string]string{"Content-Md5": b64([]byte("short"))}, 1, ErrInvalidDigest, "InvalidDigest"},
		{"bad sha256", map[string]string{"X-Amz-Content-Sha256": "abc"}, 1, ErrMalformed, "InvalidArgument"},
		{"sigv4a streaming", map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "X-Amz-Decoded-Content-Length": "1"}, 1, ErrMalformed, "InvalidRequest"},
		{"unknown checksum", map[string]string{"X-Amz-Checksum-Md5": crc}, 1, ErrMalformed, "InvalidArgument"},
		{"bad checksum value", map[string]string{"X-Amz-Checksum-Crc32": "AAAA"}, 1, ErrMalformed, "InvalidRequest"},
		{"two checksums", map[string]string{"X-Amz-Checksum-Crc32": crc, "X-Amz-Checksum-Crc32c": crc}, 1, ErrMalformed, "InvalidRequest"},
		{"checksum header and trailer", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "1", "X-Amz-Trailer": "x-amz-checksum-crc32c", "X-Amz-Checksum-Crc32": crc}, 40, ErrMalformed, "InvalidRequest"},
		{"trailer not checksum", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "1", "X-Amz-Trailer": "x-amz-meta-foo"}, 40, ErrMalformed, "InvalidArgument"},
		{"trailer on plain", map[string]string{"X-Amz-Content-Sha256": UnsignedPayload, "X-Amz-Trailer": "x-amz-checksum-crc32"}, 1, ErrMalformed, "InvalidRequest"},
		{"trailer on signed without trailer", map[string]string{"X-Amz-Content-Sha256": StreamingSigned, "X-Amz-Decoded-Content-Length": "1", "X-Amz-Trailer": "x-amz-checksum-crc32"}, 100, ErrMalformed, "InvalidRequest"},
		{"signed trailer form without x-amz-trailer", map[string]string{"X-Amz-Content-Sha256": StreamingSignedTrailer, "X-Amz-Decoded-Content-Length": "1"}, 100, ErrMalformed, "InvalidRequest"},
		{"chunked without decoded length", map[string]string{"X-Amz-Content-Sha256": StreamingSigned}, 100, ErrMissingLength, "MissingContentLength"},
		{"decoded length bad", map[string]string{"X-Amz-Content-Sha256": StreamingSigned, "X-Amz-Decoded-Content-Length": "-1"}, 100, ErrMalformed, "InvalidArgument"},
		{"decoded length huge", map[string]string{"X-Amz-Content-Sha256": StreamingSigned, "X-Amz-Decoded-Content-Length": "99999999999999999999"}, 100, ErrMalformed, "InvalidArgument"},
		{"decoded length above content-length", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "101"}, 100, ErrMalformed, "InvalidArgument"},
		{"plain without content-length", map[string]string{}, -1, ErrMissingLength, "MissingContentLength"},
		{"chunked without content-length", map[string]string{"X-Amz-Content-Sha256": StreamingUnsignedTrailer, "X-Amz-Decoded-Content-Length": "1"}, -1, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.h {
				h.Set(k, v)
			}
			s, err := SpecFromRequest(h, c.cl)
			wantErr(t, err, c.want, c.code)
			if err == nil && s.signedChunks() {
				s.SkipSignatures = true
			}
			if err == nil {
				if _, err := NewReader(strings.NewReader(""), s); err != nil {
					t.Fatalf("NewReader refuses what SpecFromRequest accepted: %v", err)
				}
			}
		})
	}
	dup := http.Header{"Content-Md5": {"a", "b"}}
	if _, err := SpecFromRequest(dup, 1); !errors.Is(err, ErrMalformed) {
		t.Fatalf("two Content-MD5: %v", err)
	}
}

func TestObjectContentEncoding(t *testing.T) {
	for in, want := range map[string]string{"": "", "aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, AWS-Chunked ,br": "gzip,br"} {
		s := Spec{ContentEncoding: in}
		if got := s.ObjectContentEncoding(); got != want {
			t.Errorf("ObjectContentEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}

// zeroReader returns (0, nil) twice before each byte, which io.Reader
// allows.
type zeroReader struct {
	b     []byte
	calls int
}

func (z *zeroReader) Read(p []byte) (int, error) {
	z.calls++
	if len(z.b) == 0 {
		return 0, io.EOF
	}
	if z.calls%3 != 0 || len(p) == 0 {
		return 0, nil
	}
	p[0], z.b = z.b[0], z.b[1:]
	return 1, nil
}

func TestEmptyReads(t *testing.T) {
	data := randBytes(5, 40<<10)
	for _, c := range []struct {
		spec Spec
		body []byte
	}{
		{plainSpec(len(data)), data},
		{chunkSpec(StreamingSigned, len(data)), chunkedBody{signed: true, chunks: split(len(data), 20<<10)}.build(t, data)},
	} {
		r, err := NewReader(&zeroReader{b: c.body}, c.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes, %v", c.spec.ContentSHA256, len(got), err)
		}
	}
}

func TestCode(t *testing.T) {
	s := plainSpec(5)
	s.ContentMD5 = b64(make([]byte, 16))
	_, _, err := decode(t, []byte("hello"), s, 1)
	if code, status := Code(fmt.Errorf("put: %w", err)); code != "BadDigest" || status != http.StatusBadRequest {
		t.Fatalf("Code = %s %d", code, status)
	}
	if code, status := Code(errors.New("other")); code != "InternalError" || status != 500 {
		t.Fatalf("Code(other) = %s %d", code, status)
	}
}
