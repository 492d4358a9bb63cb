package payload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"
)

func minioClient(t *testing.T, rec *recorder, trailing bool) *minio.Client {
	t.Helper()
	u, err := url.Parse(rec.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(testAK, testSK, ""),
		Region:       testRegion,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
		// TrailingHeaders lets PutObject send checksums in a trailer.
		TrailingHeaders: trailing,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type minioCase struct {
	name     string
	size     int
	opts     minio.PutObjectOptions
	trailing bool
	wantForm string
	wantSum  string
}

var minioCases = []minioCase{
	{name: "default", size: 200<<10 + 5, wantForm: StreamingSigned},
	{name: "one chunk", size: 100, wantForm: StreamingSigned},
	{name: "exact chunks", size: 128 << 10, wantForm: StreamingSigned},
	{name: "empty", size: 0},
	{name: "crc32c trailer", size: 150 << 10, trailing: true, opts: minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}, wantForm: StreamingSignedTrailer, wantSum: CRC32C},
	{name: "auto trailer", size: 90 << 10, trailing: true},
	{name: "md5", size: 70 << 10, opts: minio.PutObjectOptions{SendContentMd5: true}},
}

// minioPut runs minio-go's PutObject against a plain-HTTP recorder,
// where it signs every chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).
func minioPut(t *testing.T, c minioCase, seed uint64) (recorded, []byte) {
	t.Helper()
	rec := newRecorder(t, false)
	cl := minioClient(t, rec, c.trailing)
	data := randBytes(seed, c.size)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cl.PutObject(ctx, "bucket", "dir/obj.bin", bytes.NewReader(data), int64(len(data)), c.opts); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	return rec.last(t), data
}

func TestMinioPutObjectBodies(t *testing.T) {
	for i, c := range minioCases {
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(3000 + i)
			rq, data := minioPut(t, c, seed)
			t.Logf("seed %d: %s", seed, describe(rq.header))
			if c.wantForm != "" && rq.header.Get("X-Amz-Content-Sha256") != c.wantForm {
				t.Errorf("x-amz-content-sha256 %q, want %s", rq.header.Get("X-Amz-Content-Sha256"), c.wantForm)
			}
			s := rq.spec(t)
			got, r, err := decode(t, rq.body, s, seed)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if c.wantSum != "" && r.Checksums()[c.wantSum] != refSum(c.wantSum, data) {
				t.Fatalf("Checksums %v, want %s %s", r.Checksums(), c.wantSum, refSum(c.wantSum, data))
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, differ from the %d sent", len(got), len(data))
			}
			if !s.signedChunks() {
				return
			}

			// Another key: every chunk signature is wrong.
			bad := s
			bad.SigningKey = bytes.Clone(s.SigningKey)
			bad.SigningKey[0] ^= 1
			_, _, err = decode(t, rq.body, bad, seed)
			wantErr(t, err, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch")
			// Another seed signature.
			bad = s
			bad.SeedSignature = strings.Repeat("0", 64)
			_, _, err = decode(t, rq.body, bad, seed)
			wantErr(t, err, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch")
			// Without checking, bad signatures pass.
			bad.SkipSignatures = true
			if _, _, err = decode(t, rq.body, bad, seed); err != nil {
				t.Fatalf("SkipSignatures: %v", err)
			}

			// One object byte changed: that chunk's signature fails.
			if len(data) > 0 {
				body := bytes.Clone(rq.body)
				body[bytes.Index(body, data[len(data)-min(8, len(data)):])] ^= 0x01
				_, _, err = decode(t, body, s, seed)
				wantErr(t, err, ErrSignatureDoesNotMatch, "")
			}

			// Each chunk signature changed, the last (0-length chunk) included.
			sigs := signatureOffsets(rq.body)
			if len(sigs) < 1+min(len(data), 1) {
				t.Fatalf("%d chunk signatures in the body", len(sigs))
			}
			for _, off := range sigs {
				body := bytes.Clone(rq.body)
				body[off] = map[bool]byte{true: '1', false: '0'}[body[off] == '0']
				_, _, err = decode(t, body, s, seed)
				wantErr(t, err, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch")
			}
		})
	}
}

// signatureOffsets returns where each chunk-signature value starts.
func signatureOffsets(body []byte) []int {
	var offs []int
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte("chunk-signature="))
		if j < 0 {
			return offs
		}
		i += j + len("chunk-signature=")
		offs = append(offs, i)
	}
}

// TestMinioSignedTrailer signs a body with minio-go's streaming signer and
// a trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER), records it and
// decodes it; then with the trailer's value or signature changed.
func TestMinioSignedTrailer(t *testing.T) {
	rec := newRecorder(t, false)
	const seed = 4000
	data := randBytes(seed, 150<<10+3)
	req, err := http.NewRequest(http.MethodPut, rec.URL+"/bucket/dir/obj.bin", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	crc := refSum(CRC32C, data)
	req.Trailer = http.Header{"X-Amz-Checksum-Crc32c": {crc}}
	req = signer.StreamingSignV4(req, testAK, testSK, "", testRegion, int64(len(data)), time.Now().UTC(), sha256Hasher{sha256.New()})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rq := rec.last(t)
	t.Logf("%s; trailer %q", describe(rq.header), rq.body[bytes.LastIndex(rq.body, []byte("0;chunk")):])
	s := rq.spec(t)
	if s.ContentSHA256 != StreamingSignedTrailer {
		t.Fatalf("form %q", s.ContentSHA256)
	}
	got, r, err := decode(t, rq.body, s, seed)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(got, data) || r.Checksums()[CRC32C] != crc {
		t.Fatalf("decoded %d bytes, checksums %v", len(got), r.Checksums())
	}

	// The trailer's checksum changed to another valid one: the trailer
	// signature no longer matches.
	body := bytes.Clone(rq.body)
	i := bytes.LastIndex(body, []byte("x-amz-checksum-crc32c:")) + len("x-amz-checksum-crc32c:")
	body[i] = map[bool]byte{true: 'B', false: 'A'}[body[i] == 'A']
	_, _, err = decode(t, body, s, seed)
	wantErr(t, err, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch")
	// ... and without signature checks, the checksum does not match.
	s2 := s
	s2.SkipSignatures = true
	_, _, err = decode(t, body, s2, seed)
	wantErr(t, err, ErrBadDigest, "BadDigest")

	// The trailer signature changed.
	body = bytes.Clone(rq.body)
	i = bytes.LastIndex(body, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")
	body[i] = map[bool]byte{true: '1', false: '0'}[body[i] == '0']
	_, _, err = decode(t, body, s, seed)
	wantErr(t, err, ErrSignatureDoesNotMatch, "SignatureDoesNotMatch")
}

// sha256Hasher is the md5simd.Hasher minio-go's streaming signer hashes
// chunks with (hash.Hash plus Close).
type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}
