package payload

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sdkClient is an s3.Client for rec with the settings
// config.LoadDefaultConfig gives (no files or environment read), the
// checksum setting overridden unless calc is 0.
func sdkClient(t *testing.T, rec *recorder, calc aws.RequestChecksumCalculation) *s3.Client {
	t.Helper()
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testAK, testSK, "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
	}
	if calc != 0 {
		opts = append(opts, config.WithRequestChecksumCalculation(calc))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(rec.URL)
		o.UsePathStyle = true
		o.HTTPClient = rec.Client()
	})
}

// onlyReader hides a body's Seek so the SDK must stream it.
type onlyReader struct{ io.Reader }

// independent checksums of data, computed without the package.
func refSum(alg string, data []byte) string {
	var h hash.Hash
	switch alg {
	case CRC32:
		h = crc32.NewIEEE()
	case CRC32C:
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case SHA1:
		h = sha1.New()
	case SHA256:
		h = sha256.New()
	default:
		return ""
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

type sdkCase struct {
	name     string
	tls      bool
	calc     aws.RequestChecksumCalculation
	alg      types.ChecksumAlgorithm
	md5      bool
	stream   bool // non-seekable body
	size     int
	wantForm string // x-amz-content-sha256 expected ("hex" = a digest)
	wantSum  string // checksum algorithm expected in Checksums()
}

var sdkCases = []sdkCase{
	{name: "http default", size: 300 << 10, wantForm: "hex", wantSum: CRC32},
	{name: "http when_required", calc: aws.RequestChecksumCalculationWhenRequired, size: 1000, wantForm: "hex"},
	{name: "http md5", md5: true, calc: aws.RequestChecksumCalculationWhenRequired, size: 5000, wantForm: "hex"},
	{name: "https default", tls: true, size: 300 << 10, wantForm: StreamingUnsignedTrailer, wantSum: CRC32},
	{name: "https stream", tls: true, stream: true, size: 200<<10 + 17, wantForm: StreamingUnsignedTrailer, wantSum: CRC32},
	{name: "https when_supported crc32c", tls: true, calc: aws.RequestChecksumCalculationWhenSupported, alg: types.ChecksumAlgorithmCrc32c, size: 70000, wantForm: StreamingUnsignedTrailer, wantSum: CRC32C},
	{name: "https sha1", tls: true, alg: types.ChecksumAlgorithmSha1, size: 12345, wantForm: StreamingUnsignedTrailer, wantSum: SHA1},
	{name: "https sha256", tls: true, alg: types.ChecksumAlgorithmSha256, size: 1 << 20, wantForm: StreamingUnsignedTrailer, wantSum: SHA256},
	{name: "https crc64nvme", tls: true, alg: types.ChecksumAlgorithmCrc64nvme, size: 99999, wantForm: StreamingUnsignedTrailer, wantSum: CRC64NVME},
	{name: "https empty", tls: true, size: 0, wantSum: CRC32},
	{name: "http crc64nvme", alg: types.ChecksumAlgorithmCrc64nvme, size: 4096, wantForm: "hex", wantSum: CRC64NVME},
}

// sdkPut runs one PutObject of the SDK against a recorder and returns the
// recorded request and the data sent.
func sdkPut(t *testing.T, c sdkCase, seed uint64) (recorded, []byte) {
	t.Helper()
	rec := newRecorder(t, c.tls)
	cl := sdkClient(t, rec, c.calc)
	data := randBytes(seed, c.size)
	in := &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/obj.bin"), ChecksumAlgorithm: c.alg}
	if c.stream {
		in.Body = onlyReader{bytes.NewReader(data)}
		in.ContentLength = aws.Int64(int64(len(data)))
	} else {
		in.Body = bytes.NewReader(data)
	}
	if c.md5 {
		sum := md5.Sum(data)
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	if _, err := cl.PutObject(context.Background(), in); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	return rec.last(t), data
}

func TestSDKPutObjectBodies(t *testing.T) {
	for i, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(1000 + i)
			rq, data := sdkPut(t, c, seed)
			t.Logf("seed %d: %s", seed, describe(rq.header))
			form := rq.header.Get("X-Amz-Content-Sha256")
			if c.wantForm == "hex" && len(form) != 64 || c.wantForm != "hex" && c.wantForm != "" && form != c.wantForm {
				t.Errorf("x-amz-content-sha256 %q, want %s", form, c.wantForm)
			}
			s := rq.spec(t)
			got, r, err := decode(t, rq.body, s, seed)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, differ from the %d sent", len(got), len(data))
			}
			sums := r.Checksums()
			if c.wantSum != "" {
				v, ok := sums[c.wantSum]
				if !ok {
					t.Fatalf("Checksums %v lack %s", sums, c.wantSum)
				}
				if ref := refSum(c.wantSum, data); ref != "" && ref != v {
					t.Fatalf("checksum %s = %s, independent %s", c.wantSum, v, ref)
				}
			}
		})
	}
}

// TestSDKCorruptBodies changes one byte of the object, of the trailer or
// of the checksum header of SDK-made requests and checks the error.
func TestSDKCorruptBodies(t *testing.T) {
	for i, c := range sdkCases {
		if c.size == 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(2000 + i)
			rq, data := sdkPut(t, c, seed)
			s := rq.spec(t)

			// One object byte: at the middle of the object in the wire body.
			body := bytes.Clone(rq.body)
			mid := bytes.Index(body, data[len(data)/2:len(data)/2+min(64, len(data)-len(data)/2)])
			if mid < 0 {
				t.Fatal("object bytes not found in the body")
			}
			body[mid] ^= 0x40
			_, _, err := decode(t, body, s, seed)
			wantErr(t, err, ErrBadDigest, "")

			if s.Chunked() && len(s.Trailer) > 0 {
				// The trailer's value: another valid checksum.
				name := s.Trailer[0]
				i := bytes.LastIndex(rq.body, []byte(name+":"))
				if i < 0 {
					t.Fatalf("trailer %s not in body %q", name, rq.body[max(0, len(rq.body)-200):])
				}
				body := bytes.Clone(rq.body)
				v := body[i+len(name)+1:]
				v[0] = map[bool]byte{true: 'B', false: 'A'}[v[0] == 'A']
				_, _, err := decode(t, body, s, seed)
				wantErr(t, err, ErrBadDigest, "BadDigest")

				// The size of the object: one byte short and one long.
				s2 := s
				s2.DecodedLength--
				_, _, err = decode(t, rq.body, s2, seed)
				wantErr(t, err, ErrMalformed, "")
				s2.DecodedLength += 2
				_, _, err = decode(t, rq.body, s2, seed)
				wantErr(t, err, ErrIncompleteBody, "IncompleteBody")
			}
			for alg, v := range s.Checksums {
				s2 := s
				s2.Checksums = map[string]string{alg: strings.Repeat("A", len(v)-2) + "=="}
				if !validChecksum(alg, s2.Checksums[alg]) {
					s2.Checksums[alg] = strings.Repeat("A", len(v)-1) + "="
				}
				_, _, err := decode(t, rq.body, s2, seed)
				wantErr(t, err, ErrBadDigest, "BadDigest")
			}
			// Truncated: the last byte of the body missing.
			_, _, err = decode(t, rq.body[:len(rq.body)-1], s, seed)
			if err == nil {
				t.Fatal("truncated body accepted")
			}
		})
	}
}
