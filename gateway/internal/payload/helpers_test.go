package payload

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ringcache/ringcache/gateway/internal/sigv4"
)

const (
	testAK     = "AKIDPAYLOADTEST"
	testSK     = "payload/test+secret"
	testRegion = "us-east-1"
)

func testVerifier(t testing.TB) *sigv4.Verifier {
	t.Helper()
	v, err := sigv4.New(sigv4.Config{Keys: map[string]string{testAK: testSK}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recorded is one request as a client sent it, verified by sigv4.
type recorded struct {
	header        http.Header
	contentLength int64
	body          []byte
	cred          sigv4.Credential
	key           []byte
}

// spec is the request's Spec, signing fields included.
func (rec recorded) spec(t testing.TB) Spec {
	t.Helper()
	s, err := SpecFromRequest(rec.header, rec.contentLength)
	if err != nil {
		t.Fatalf("SpecFromRequest: %v\nheaders %v", err, rec.header)
	}
	s.SetCredential(rec.key, rec.cred)
	return s
}

// recorder is an S3 endpoint that verifies each request's SigV4
// signature, keeps its headers and raw body, and answers 200 with an
// ETag: enough for a client's PutObject to succeed.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newRecorder(t testing.TB, useTLS bool) *recorder {
	v := testVerifier(t)
	rec := &recorder{}
	rec.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, err := v.Verify(r)
		if err != nil {
			t.Errorf("recorder: %s %s: %v", r.Method, r.URL, err)
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		key, _ := v.SigningKey(cred)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("recorder: reading body: %v", err)
		}
		h := r.Header.Clone()
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{header: h, contentLength: r.ContentLength, body: body, cred: cred, key: key})
		rec.mu.Unlock()
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		w.WriteHeader(http.StatusOK)
	}))
	if useTLS {
		rec.StartTLS()
	} else {
		rec.Start()
	}
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) last(t testing.TB) recorded {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		t.Fatal("no request recorded")
	}
	return rec.reqs[len(rec.reqs)-1]
}

// readAll reads r with reads of random sizes and returns the bytes and
// the first error (io.EOF excluded). It fails t if r ever returns more
// than Size() bytes or a complete object together with an error.
func readAll(t testing.TB, r *Reader, rnd *rand.Rand) ([]byte, error) {
	t.Helper()
	var out []byte
	buf := make([]byte, 70<<10)
	for {
		n := 1 + rnd.IntN(len(buf))
		if rnd.IntN(4) == 0 {
			n = 1 + rnd.IntN(16)
		}
		m, err := r.Read(buf[:n])
		if m < 0 || m > n {
			t.Fatalf("Read returned %d for a buffer of %d", m, n)
		}
		out = append(out, buf[:m]...)
		if int64(len(out)) > r.Size() {
			t.Fatalf("read %d bytes, more than Size %d", len(out), r.Size())
		}
		if err == io.EOF {
			if int64(len(out)) != r.Size() {
				t.Fatalf("io.EOF after %d bytes, Size %d", len(out), r.Size())
			}
			return out, nil
		}
		if err != nil {
			if m != 0 {
				t.Fatalf("Read returned %d bytes with error %v", m, err)
			}
			if int64(len(out)) == r.Size() && r.Size() > 0 {
				t.Fatalf("complete object (%d bytes) returned before error %v", len(out), err)
			}
			return out, err
		}
	}
}

// decode reads body per s and returns the bytes and error.
func decode(t testing.TB, body []byte, s Spec, seed uint64) ([]byte, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(body), s)
	if err != nil {
		return nil, nil, err
	}
	got, err := readAll(t, r, rand.New(rand.NewPCG(seed, seed^0x9e37)))
	return got, r, err
}

// wantErr fails t unless err wraps want (nil: no error) with S3 code code
// ("" = any).
func wantErr(t testing.TB, err, want error, code string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *payload.Error", err)
	}
	if code != "" && pe.Code != code {
		t.Fatalf("error code %q (%v), want %q", pe.Code, err, code)
	}
	if pe.Status < 400 || pe.Status > 499 {
		t.Fatalf("status %d for %v", pe.Status, err)
	}
}

// chunkedBody builds aws-chunked bodies for tests. Chunk signatures come
// from aws-sdk-go-v2's v4.StreamSigner (its string to sign with empty
// headers is S3's chunk string to sign), so they do not share code with
// the decoder; the trailer signature is computed here from the spec.
type chunkedBody struct {
	signed   bool
	chunks   []int             // data chunk sizes, in order
	trailer  map[string]string // name -> value, written in sorted order by the caller's keys slice
	names    []string          // trailer names in order
	trailSig bool              // write x-amz-trailer-signature
	lf       bool              // end trailer lines with LF, minio-go style
}

var testTime = time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)

// signing returns the seed signature and Spec signing fields for tests.
func testSigning() (key []byte, seed, amzDate, scope string) {
	seed = strings.Repeat("ab", 32)
	k := hmacSHA([]byte("AWS4"+testSK), testTime.Format("20060102"))
	k = hmacSHA(k, testRegion)
	k = hmacSHA(k, "s3")
	k = hmacSHA(k, "aws4_request")
	return k, seed, testTime.Format(amzDateLayout), testTime.Format("20060102") + "/" + testRegion + "/s3/aws4_request"
}

func hmacSHA(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func (c chunkedBody) build(t testing.TB, data []byte) []byte {
	t.Helper()
	_, seed, amzDate, scope := testSigning()
	seedRaw, _ := hex.DecodeString(seed)
	ss := v4.NewStreamSigner(aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}, "s3", testRegion, seedRaw)
	var b bytes.Buffer
	prev := seed
	chunk := func(p []byte) {
		b.WriteString(strconv.FormatInt(int64(len(p)), 16))
		if c.signed {
			sig, err := ss.GetSignature(context.Background(), nil, p, testTime)
			if err != nil {
				t.Fatal(err)
			}
			prev = hex.EncodeToString(sig)
			b.WriteString(";chunk-signature=" + prev)
		}
		b.WriteString("\r\n")
		if len(p) > 0 {
			b.Write(p)
			b.WriteString("\r\n")
		}
	}
	off := 0
	for _, n := range c.chunks {
		chunk(data[off : off+n])
		off += n
	}
	chunk(nil)
	eol := "\r\n"
	if c.lf {
		eol = "\n"
	}
	var canon strings.Builder
	for _, n := range c.names {
		b.WriteString(n + ":" + c.trailer[n] + eol)
		canon.WriteString(n + ":" + c.trailer[n] + "\n")
	}
	if c.trailSig {
		if c.lf {
			b.WriteString("\r\n")
		}
		key, _, _, _ := testSigning()
		sum := sha256.Sum256([]byte(canon.String()))
		sig := hex.EncodeToString(hmacSHA(key, "AWS4-HMAC-SHA256-TRAILER\n"+amzDate+"\n"+scope+"\n"+prev+"\n"+hex.EncodeToString(sum[:])))
		b.WriteString("x-amz-trailer-signature:" + sig + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// split cuts n bytes into chunks of size at most max.
func split(n, max int) []int {
	var s []int
	for n > 0 {
		c := min(n, max)
		s = append(s, c)
		n -= c
	}
	return s
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func describe(h http.Header) string {
	var parts []string
	for _, k := range []string{"X-Amz-Content-Sha256", "Content-Encoding", "X-Amz-Trailer", "X-Amz-Decoded-Content-Length", "Content-Md5", "X-Amz-Sdk-Checksum-Algorithm"} {
		if v := h.Values(k); len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s=%s", k, strings.Join(v, ",")))
		}
	}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	return strings.Join(parts, " ")
}
