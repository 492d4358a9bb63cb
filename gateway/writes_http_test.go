package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// Writes over plain HTTP through a three-node cluster over versitygw:
// minio-go (its streaming signature, signed per chunk, is sent only over
// plain HTTP), rclone, and the faults: a client gone mid-body, an
// under-store failing the commit, a chunk whose signature does not match.
func TestClientWritesHTTP(t *testing.T) {
	reqs := &requestLog{}
	c := s3ClusterWith(t, 3, "sigv4", func(cfg *node.Config) { cfg.Logger = slog.New(reqs) })
	ctx := context.Background()

	minioWith := func(t *testing.T, i int, rec *recorder, trailers bool) *minio.Client {
		u, _ := url.Parse(c.endpoint(i))
		rec.base = c.transport(t)
		mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(testAccess, testSecret, ""),
			Region: "us-east-1", BucketLookup: minio.BucketLookupPath, Transport: rec, MaxRetries: 1, TrailingHeaders: trailers})
		if err != nil {
			t.Fatal(err)
		}
		return mc
	}
	minioAt := func(t *testing.T, i int, rec *recorder) *minio.Client { return minioWith(t, i, rec, false) }

	t.Run("minio-go", func(t *testing.T) {
		rec := &recorder{}
		owner, other := c.owners(t, "lake/minio/multi.bin")
		for _, tc := range []struct {
			key  string
			size int
			via  int
			opts minio.PutObjectOptions
		}{
			{"minio/small.bin", 3<<20 + 5, other, minio.PutObjectOptions{}},
			{"minio/small.bin", 1 << 20, owner, minio.PutObjectOptions{}}, // a new version
			{"minio/multi.bin", multiSize, other, minio.PutObjectOptions{PartSize: partSize}},
			{"minio/md5.bin", 300 << 10, owner, minio.PutObjectOptions{SendContentMd5: true}},
		} {
			data := randomBytes(uint64(500+tc.size), tc.size)
			info, err := minioAt(t, tc.via, rec).PutObject(ctx, "lake", tc.key, bytes.NewReader(data), int64(len(data)), tc.opts)
			if err != nil {
				t.Fatalf("PutObject %s through node %d: %v", tc.key, tc.via, err)
			}
			if info.Size != int64(len(data)) {
				t.Errorf("PutObject %s: size %d", tc.key, info.Size)
			}
			c.checkEverywhere(t, tc.key, data, true)
		}
		forms := reqs.bodies("/lake/minio/")
		t.Logf("minio-go bodies: %v (sent %q)", forms, rec.bodySHA256s())
		if n := forms["STREAMING-AWS4-HMAC-SHA256-PAYLOAD"] + forms["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"]; n < 5 {
			t.Errorf("minio-go over HTTP: bodies %v, want its streaming signature on every put and part", forms)
		}
	})

	t.Run("minio-go checksum trailers", func(t *testing.T) {
		// With TrailingHeaders and a Checksum, minio-go signs the chunks
		// and the trailer that carries the checksum
		// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
		rec := &recorder{}
		_, other := c.owners(t, "lake/minio/crc64.bin")
		for _, tc := range []struct {
			key  string
			size int
			opts minio.PutObjectOptions
		}{
			{"minio/crc64.bin", 2<<20 + 1, minio.PutObjectOptions{Checksum: minio.ChecksumCRC64NVME}},
			{"minio/crc32c.bin", 700 << 10, minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}},
			{"minio/sha256-multi.bin", multiSize, minio.PutObjectOptions{Checksum: minio.ChecksumSHA256, PartSize: partSize}},
		} {
			data := randomBytes(uint64(550+tc.size), tc.size)
			if _, err := minioWith(t, other, rec, true).PutObject(ctx, "lake", tc.key, bytes.NewReader(data), int64(len(data)), tc.opts); err != nil {
				t.Fatalf("PutObject %s with %v: %v", tc.key, tc.opts.Checksum, err)
			}
			c.checkEverywhere(t, tc.key, data, true)
		}
		t.Logf("minio-go with trailers sent %q", rec.bodySHA256s())
		for _, s := range rec.bodySHA256s() {
			if s != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" {
				t.Errorf("minio-go with TrailingHeaders sent a body as %q", s)
			}
		}
	})

	t.Run("bad chunk signature", func(t *testing.T) {
		old := randomBytes(600, 200<<10)
		key := "bad/sig.bin"
		c.put(t, "lake/"+key, old)
		c.checkEverywhere(t, key, old, false)
		for i := range c.lc.Nodes {
			rec := &recorder{}
			rec.setCorrupt(func(r *http.Request) bool { return r.Method == http.MethodPut }, 3000)
			_, err := minioAt(t, i, rec).PutObject(ctx, "lake", key, bytes.NewReader(randomBytes(601, 200<<10)), 200<<10, minio.PutObjectOptions{})
			if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
				t.Errorf("a chunk corrupted after minio-go signed it, through node %d: %v, want SignatureDoesNotMatch", i, err)
			}
			if s := rec.bodySHA256s(); len(s) == 0 || !strings.HasPrefix(s[0], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
				t.Errorf("the corrupted put was sent as %q", s)
			}
		}
		c.checkEverywhere(t, key, old, false)
		rec := &recorder{}
		rec.setCorrupt(func(r *http.Request) bool { return r.Method == http.MethodPut }, 150<<10)
		_, err := minioAt(t, 2, rec).PutObject(ctx, "lake", "bad/signew.bin", bytes.NewReader(randomBytes(602, 200<<10)), 200<<10, minio.PutObjectOptions{})
		if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
			t.Errorf("corrupted put of a new key: %v, want SignatureDoesNotMatch", err)
		}
		c.checkAbsent(t, "bad/signew.bin")
	})

	t.Run("rclone", func(t *testing.T) {
		rclone := needTool(t, "rclone", "apt-get install rclone")
		_, other := c.owners(t, "lake/rclone/multi.bin")
		env := toolEnv(t, "RCLONE_CONFIG="+filepath.Join(t.TempDir(), "rclone.conf"), "RCLONE_S3_PROVIDER=Other",
			"RCLONE_S3_ENDPOINT="+c.endpoint(other), "RCLONE_S3_ACCESS_KEY_ID="+testAccess, "RCLONE_S3_SECRET_ACCESS_KEY="+testSecret,
			"RCLONE_S3_FORCE_PATH_STYLE=true", "RCLONE_S3_REGION=us-east-1")
		src := t.TempDir()
		files := map[string][]byte{"multi.bin": randomBytes(700, multiSize), "small.txt": []byte("small\n"), "sub/x.bin": randomBytes(701, 70000)}
		writeFiles(t, src, files)
		runTool(t, env, rclone, "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src, ":s3:lake/rclone")
		for name, b := range files {
			c.checkEverywhere(t, "rclone/"+name, b, true)
		}
		if ops := reqs.ops("/lake/rclone/"); ops["UploadPart"] != 3 || ops["CompleteMultipartUpload"] != 1 {
			t.Errorf("rclone: %v, want one multipart upload of 3 parts", ops)
		}
		down := t.TempDir()
		runTool(t, env, rclone, "copy", ":s3:lake/rclone", down)
		for name, b := range files {
			mustEqual(t, "rclone copy down "+name, readFile(t, filepath.Join(down, filepath.FromSlash(name))), b)
		}
	})

	t.Run("s3cmd", func(t *testing.T) {
		s3cmd := needTool(t, "s3cmd", "apt-get install s3cmd")
		_, other := c.owners(t, "lake/s3cmd/multi.bin")
		host := strings.TrimPrefix(c.endpoint(other), "http://")
		cfg := filepath.Join(t.TempDir(), "s3cfg")
		conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"+
			"use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n", testAccess, testSecret, host, host)
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		src := t.TempDir()
		files := map[string][]byte{"multi.bin": randomBytes(750, multiSize), "small.txt": []byte("s3cmd\n")}
		writeFiles(t, src, files)
		env := toolEnv(t)
		for name := range files {
			runTool(t, env, s3cmd, "-c", cfg, "--no-progress", "--multipart-chunk-size-mb=5", "put", filepath.Join(src, name), "s3://lake/s3cmd/"+name)
		}
		for name, b := range files {
			c.checkEverywhere(t, "s3cmd/"+name, b, true)
		}
		if ops := reqs.ops("/lake/s3cmd/"); ops["UploadPart"] != 3 || ops["CompleteMultipartUpload"] != 1 {
			t.Errorf("s3cmd: %v, want one multipart upload of 3 parts", ops)
		}
		runTool(t, env, s3cmd, "-c", cfg, "--no-progress", "del", "s3://lake/s3cmd/small.txt")
		c.checkAbsent(t, "s3cmd/small.txt")
	})

	t.Run("presigned PUT and a directory marker", func(t *testing.T) {
		data := randomBytes(760, pageSize+77)
		for i := range c.lc.Nodes {
			key := fmt.Sprintf("presigned/%d.bin", i)
			ps, err := s3.NewPresignClient(c.sdkAt(t, i, nil, false)).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := http.NewRequest(http.MethodPut, ps.URL, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range ps.SignedHeader {
				if !strings.EqualFold(k, "Host") {
					r.Header[k] = vs
				}
			}
			if resp, body := do(t, r); resp.StatusCode != http.StatusOK {
				t.Fatalf("presigned PUT through node %d: %d %s", i, resp.StatusCode, body)
			}
			c.checkEverywhere(t, key, data, true)
		}
		if _, err := c.sdkAt(t, 1, nil, false).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("marker/"), Body: bytes.NewReader(nil)}); err != nil {
			t.Fatalf("PUT of a directory marker: %v", err)
		}
		c.checkEverywhere(t, "marker/", nil, false)
	})

	t.Run("client gone mid-body", func(t *testing.T) {
		old := randomBytes(800, 2*pageSize+3)
		key := "fault/gone.bin"
		c.put(t, "lake/"+key, old)
		c.checkEverywhere(t, key, old, false) // every node has seen the old version
		owner, other := c.owners(t, "lake/"+key)
		for _, i := range []int{other, owner} {
			before := c.s3Requests(t, "PutObject")
			full := randomBytes(801, 1<<20)
			halfPut(t, c.endpoint(i), "/lake/"+key, full)
			// The gateway answers the request (in its metrics) once the node
			// has dropped the write.
			waitFor(t, "the cut PutObject to end", 10*time.Second, func() bool { return c.s3Requests(t, "PutObject") > before })
			c.checkEverywhere(t, key, old, false)
		}
	})

	t.Run("under-store fails the commit", func(t *testing.T) {
		injected := fmt.Errorf("%w: injected 500 InternalError at the commit", understore.ErrUnavailable)
		old := randomBytes(900, pageSize+9)
		key := "fault/commit.bin"
		c.put(t, "lake/"+key, old)
		c.checkEverywhere(t, key, old, false)
		owner, other := c.owners(t, "lake/"+key)
		c.store.failWrites(func(op, p string) error {
			if p == "lake/"+key && (op == "Put" || op == "CompleteUpload") {
				return injected
			}
			return nil
		})
		defer c.store.failWrites(nil)
		news := randomBytes(901, multiSize)
		for _, i := range []int{other, owner} {
			cl := c.sdkAt(t, i, nil, false)
			_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(news[:pageSize*2])})
			if err == nil {
				t.Fatalf("PutObject through node %d with the under-store failing: no error", i)
			}
			t.Logf("PutObject through node %d, under-store failing: %v", i, err)
			c.checkEverywhere(t, key, old, false)
		}

		// A multipart upload whose Complete fails: the old object stays; the
		// upload can be completed once the under-store is back, and then
		// the new bytes are served from the owner's pages.
		cl := c.sdkAt(t, other, nil, false)
		up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		var parts []types.CompletedPart
		for n, off := int32(1), 0; off < len(news); n, off = n+1, off+partSize {
			end := min(off+partSize, len(news))
			p, err := c.sdkAt(t, int(n)%3, nil, false).UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key),
				UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(news[off:end])})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", n, err)
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
		}
		complete := &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
		if _, err := cl.CompleteMultipartUpload(ctx, complete); err == nil {
			t.Fatal("CompleteMultipartUpload with the under-store failing: no error")
		} else {
			t.Logf("CompleteMultipartUpload, under-store failing: %v", err)
		}
		c.checkEverywhere(t, key, old, false)
		c.store.failWrites(nil)
		if _, err := cl.CompleteMultipartUpload(ctx, complete); err != nil {
			t.Fatalf("CompleteMultipartUpload again, under-store back: %v", err)
		}
		c.checkEverywhere(t, key, news, true)
	})
}

// halfPut sends a signed PutObject of body to the gateway at endpoint over
// raw TCP: its headers with Content-Length len(body), then half the body,
// then it closes the connection.
func halfPut(t *testing.T, endpoint, path string, body []byte) {
	t.Helper()
	host := strings.TrimPrefix(endpoint, "http://")
	r, err := http.NewRequest(http.MethodPut, endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret},
		r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %s\r\n", path, host, strconv.Itoa(len(body)))
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	w := bufio.NewWriter(conn)
	w.WriteString(b.String())
	w.Write(body[:len(body)/2])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// writeFiles writes files (slash-separated names under dir).
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWritesSeenEverywhere: what a write changes besides the bytes is seen
// at once on every node too — listings (cached for the sync interval,
// dropped by every write), HEAD's ETag and size (the under-store's) — and
// concurrent writers of one key through different nodes leave every node
// serving what the under-store holds. Multipart uploads that go wrong
// (a part cut mid-body, a part with a bad Content-MD5, an abort) leave no
// part, no object and no upload behind.
func TestWritesSeenEverywhere(t *testing.T) {
	c := s3Cluster(t, 3, "sigv4")
	ctx := context.Background()
	clients := []*s3.Client{c.sdkAt(t, 0, nil, false), c.sdkAt(t, 1, nil, false), c.sdkAt(t, 2, nil, false)}
	list := func(cl *s3.Client) []string {
		keys, _, _ := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("seen/")})
		return keys
	}

	t.Run("listings and HEAD", func(t *testing.T) {
		c.put(t, "lake/seen/a.txt", []byte("a"))
		for _, cl := range clients {
			if got := list(cl); !slices.Equal(got, []string{"seen/a.txt"}) {
				t.Fatalf("listing before the writes: %q", got)
			}
		}
		data := randomBytes(1000, pageSize+1)
		put, err := clients[1].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("seen/b.bin"), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := c.raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("seen/b.bin")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(put.ETag) != aws.ToString(raw.ETag) {
			t.Errorf("PutObject answered ETag %s, versitygw holds %s", aws.ToString(put.ETag), aws.ToString(raw.ETag))
		}
		for i, cl := range clients {
			if got := list(cl); !slices.Equal(got, []string{"seen/a.txt", "seen/b.bin"}) {
				t.Errorf("node %d lists %q right after the PUT", i, got)
			}
			h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("seen/b.bin")})
			if err != nil {
				t.Fatalf("HEAD through node %d: %v", i, err)
			}
			if aws.ToString(h.ETag) != aws.ToString(raw.ETag) || aws.ToInt64(h.ContentLength) != int64(len(data)) ||
				!aws.ToTime(h.LastModified).Equal(aws.ToTime(raw.LastModified)) {
				t.Errorf("HEAD through node %d: %s %d %v; versitygw: %s %d %v", i, aws.ToString(h.ETag), aws.ToInt64(h.ContentLength),
					aws.ToTime(h.LastModified), aws.ToString(raw.ETag), aws.ToInt64(raw.ContentLength), aws.ToTime(raw.LastModified))
			}
		}
		if _, err := clients[2].DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lake"), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("seen/a.txt")}, {Key: aws.String("seen/b.bin")}}}}); err != nil {
			t.Fatal(err)
		}
		for i, cl := range clients {
			if got := list(cl); len(got) != 0 {
				t.Errorf("node %d lists %q right after the delete", i, got)
			}
		}
		c.checkAbsent(t, "seen/a.txt")
		c.checkAbsent(t, "seen/b.bin")
	})

	t.Run("concurrent writers of one key", func(t *testing.T) {
		seed := testseed.New(t)
		key := "seen/race.bin"
		versions := map[string][]byte{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				for j := range 3 {
					b := randomBytes(seed+uint64(w*10+j), pageSize/2+w*1000+j)
					_, err := c.sdkAt(t, w%3, nil, true).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(b)})
					if err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					mu.Lock()
					versions[md5hex(b)] = b
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		out, err := c.raw.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		last := readAll(t, out.Body)
		if _, ok := versions[md5hex(last)]; !ok {
			t.Fatalf("versitygw holds %d bytes that no writer wrote (seed %d)", len(last), seed)
		}
		c.checkEverywhere(t, key, last, true)
	})

	t.Run("reads during overwrites", func(t *testing.T) {
		// GETs of a 3 MiB object (several 1 MiB pieces, several pages) while
		// it is overwritten through other nodes: each answer is one whole
		// version, never a mix; an answer cut short is allowed (the client
		// sees an error), wrong bytes are not.
		seed := testseed.New(t)
		key := "seen/overwrite.bin"
		const size = 3<<20 + 5
		versions := map[string]bool{}
		first := randomBytes(seed, size)
		versions[md5hex(first)] = true
		c.put(t, "lake/"+key, first)
		var mu sync.Mutex
		var bodies []string
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for r := range 3 {
			readers.Go(func() {
				cl := c.sdkAt(t, r, nil, false)
				for {
					select {
					case <-stop:
						return
					default:
					}
					out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
					if err != nil {
						continue
					}
					b, err := io.ReadAll(out.Body)
					out.Body.Close()
					if err != nil || len(b) != size {
						continue
					}
					mu.Lock()
					bodies = append(bodies, md5hex(b))
					mu.Unlock()
				}
			})
		}
		for v := range 6 {
			b := randomBytes(seed+uint64(v)+1, size)
			mu.Lock()
			versions[md5hex(b)] = true
			mu.Unlock()
			if _, err := c.sdkAt(t, v%3, nil, true).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
				t.Errorf("overwrite %d: %v", v, err)
			}
		}
		close(stop)
		readers.Wait()
		mixed := 0
		for _, h := range bodies {
			if !versions[h] {
				mixed++
			}
		}
		t.Logf("%d whole GETs during 6 overwrites", len(bodies))
		if mixed > 0 {
			t.Errorf("%d of %d GETs during overwrites answered bytes of no version (seed %d)", mixed, len(bodies), seed)
		}
	})

	t.Run("multipart that goes wrong", func(t *testing.T) {
		key := "seen/mp.bin"
		cl := clients[1]
		up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		p1 := randomBytes(1100, partSize)
		r1, err := clients[0].UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
		if err != nil {
			t.Fatal(err)
		}
		// Part 2 cut mid-body, through each node.
		for i := range c.lc.Nodes {
			before := c.s3Requests(t, "UploadPart")
			halfPut(t, c.endpoint(i), "/lake/"+key+"?partNumber=2&uploadId="+url.QueryEscape(aws.ToString(up.UploadId)), randomBytes(1101, 1<<20))
			waitFor(t, "the cut UploadPart to end", 10*time.Second, func() bool { return c.s3Requests(t, "UploadPart") > before })
		}
		// Part 3 with a Content-MD5 that is not its own.
		wrong := md5.Sum([]byte("not the part"))
		_, err = clients[2].UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(3), Body: bytes.NewReader(randomBytes(1102, 1000)), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
		if code := apiCode(err); code != "BadDigest" {
			t.Errorf("UploadPart with a wrong Content-MD5: %v, want BadDigest", err)
		}
		lp, err := cl.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		if len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 1 || aws.ToString(lp.Parts[0].ETag) != aws.ToString(r1.ETag) {
			t.Errorf("ListParts after the failed parts: %+v, want part 1 alone", lp.Parts)
		}
		_, err = cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: r1.ETag}, {PartNumber: aws.Int32(2), ETag: aws.String(`"00000000000000000000000000000000"`)}}}})
		if code := apiCode(err); code != "InvalidPart" {
			t.Errorf("Complete naming the cut part: %v, want InvalidPart", err)
		}
		c.checkAbsent(t, key)
		if _, err := clients[0].AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId}); err != nil {
			t.Fatal(err)
		}
		for i, cl := range clients {
			lu, err := cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake")})
			if err != nil || len(lu.Uploads) != 0 {
				t.Errorf("ListMultipartUploads through node %d after the abort: %v %+v", i, err, lu)
			}
		}
		lu, err := c.raw.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake")})
		if err != nil || len(lu.Uploads) != 0 {
			t.Errorf("versitygw's uploads after the abort: %v %+v", err, lu)
		}
		if _, err := cl.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: up.UploadId}); apiCode(err) != "NoSuchUpload" {
			t.Errorf("ListParts after the abort: %v, want NoSuchUpload", err)
		}
		c.checkAbsent(t, key)
	})
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestClientWritesLocal: the aws CLI over plain HTTP (bodies with a hex
// x-amz-content-sha256 and a checksum header) and minio-go (chunks and
// trailer signed) write multipart uploads and syncs through a three-node
// cluster over a local-directory under-store, which stages the parts
// itself; the files on disk are byte for byte what was sent.
func TestClientWritesLocal(t *testing.T) {
	reqs := &requestLog{}
	c := localClusterWith(t, 3, "sigv4", func(cfg *node.Config) { cfg.Logger = slog.New(reqs) })
	ctx := context.Background()

	t.Run("aws-cli", func(t *testing.T) {
		awsBin := needTool(t, "aws", "pip install awscli, or apt-get install awscli")
		env := awsWriteEnv(t, "")
		src := t.TempDir()
		files := map[string][]byte{"multi.bin": randomBytes(1200, multiSize), "d/a.txt": []byte("a\n"), "d/e/b.bin": randomBytes(1201, 90000)}
		writeFiles(t, src, files)
		cli := func(i int, args ...string) []byte {
			return runTool(t, env, awsBin, append([]string{"--endpoint-url", c.endpoint(i)}, args...)...)
		}
		cli(1, "s3", "sync", "--only-show-errors", src, "s3://lake/local/")
		for name, b := range files {
			c.checkEverywhere(t, "local/"+name, b, true)
		}
		down := t.TempDir()
		cli(2, "s3", "sync", "--only-show-errors", "s3://lake/local/", down)
		for name, b := range files {
			mustEqual(t, "s3 sync down "+name, readFile(t, filepath.Join(down, filepath.FromSlash(name))), b)
		}
		forms := reqs.bodies("/lake/local/")
		t.Logf("aws CLI over HTTP: bodies %v", forms)
		if forms["hex"] != 5 {
			t.Errorf("aws CLI over HTTP: bodies %v, want 5 with a hex sha256 (3 parts, 2 puts)", forms)
		}
		cli(0, "s3", "rm", "--only-show-errors", "--recursive", "s3://lake/local/")
		for name := range files {
			c.checkAbsent(t, "local/"+name)
		}
	})

	t.Run("minio-go", func(t *testing.T) {
		u, _ := url.Parse(c.endpoint(2))
		mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(testAccess, testSecret, ""),
			Region: "us-east-1", BucketLookup: minio.BucketLookupPath, MaxRetries: 1, TrailingHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		data := randomBytes(1300, multiSize)
		if _, err := mc.PutObject(ctx, "lake", "mlocal/multi.bin", bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C, PartSize: partSize}); err != nil {
			t.Fatal(err)
		}
		c.checkEverywhere(t, "mlocal/multi.bin", data, true)
		if _, err := mc.PutObject(ctx, "lake", "mlocal/dir/", bytes.NewReader(nil), 0, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("PUT of a directory marker: %v", err)
		}
		c.checkEverywhere(t, "mlocal/dir/", nil, false)
	})
}

// TestLocalMarkers: on a local-directory under-store a directory is its
// own marker, empty or not (CONTRACT "Directory markers"): a marker PUT
// through one gateway is answered 200 by HEAD and GET on every node, as
// is an empty directory made behind the nodes' back; a marker of a file
// or of nothing is 404; deleting the marker removes the empty directory.
func TestLocalMarkers(t *testing.T) {
	c := localCluster(t, 3, "sigv4")
	ctx := context.Background()
	if _, err := c.sdkAt(t, 1, nil, false).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("m/new/"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(c.dir, "lake", "m", "made"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.put(t, "lake/m/file.txt", []byte("f"))
	for i := range c.lc.Nodes {
		cl := c.sdkAt(t, i, nil, false)
		for _, k := range []string{"m/new/", "m/made/", "m/"} {
			h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(k)})
			if err != nil || aws.ToInt64(h.ContentLength) != 0 {
				t.Errorf("HEAD %s through node %d: %v", k, i, err)
			}
		}
		for _, k := range []string{"m/none/", "m/file.txt/"} {
			if _, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(k)}); apiCode(err) != "NotFound" {
				t.Errorf("HEAD %s through node %d: %v, want 404", k, i, err)
			}
		}
	}
	c.checkEverywhere(t, "m/new/", nil, false)
	if _, err := c.sdkAt(t, 2, nil, false).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lake"), Key: aws.String("m/new/")}); err != nil {
		t.Fatal(err)
	}
	c.checkAbsent(t, "m/new/")
}
