package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ringcache/ringcache/node"
)

// Writes by the real clients through a three-node cluster over versitygw
// (issue 13, "How it is checked"). The aws-sdk-go-v2, aws CLI and boto3
// tests run against gateways on HTTPS, the only place where those clients
// send aws-chunked bodies with checksum trailers by default (over plain
// HTTP they send a hex sha256); the gateways' request log shows which
// body forms were taken. Every object written is read back through every
// node's gateway and straight from versitygw, byte for byte, and the first
// reads after a write cost the under-store nothing.

// Sizes of the write tests: multipart uploads of 5 MiB parts (S3's least)
// and one shorter last part.
const (
	partSize  = 5 << 20
	multiSize = 2*partSize + 123457 // three parts
)

func TestClientWritesTLS(t *testing.T) {
	reqs := &requestLog{}
	c := s3TLSCluster(t, 3, "sigv4", func(cfg *node.Config) { cfg.Logger = slog.New(reqs) })
	ctx := context.Background()

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		rec := &recorder{}
		owner, other := c.owners(t, "lake/sdk/three.bin")
		for _, tc := range []struct {
			key  string
			size int
			via  int
		}{
			{"sdk/empty.bin", 0, other},
			{"sdk/small.bin", 1000, owner},
			{"sdk/three.bin", 3*pageSize + 17, other},
			{"sdk/three.bin", 2*pageSize + 5, owner}, // a new version, shorter
			{"sdk/big.bin", 3<<20 + 11, other},
		} {
			data := randomBytes(uint64(100+tc.size), tc.size)
			out, err := c.sdkAt(t, tc.via, rec, true).PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("lake"), Key: aws.String(tc.key), Body: bytes.NewReader(data)})
			if err != nil {
				t.Fatalf("PutObject %s (%d bytes) through node %d: %v", tc.key, tc.size, tc.via, err)
			}
			if out.ChecksumCRC32 == nil {
				t.Errorf("PutObject %s: no x-amz-checksum-crc32 echoed", tc.key)
			}
			c.checkEverywhere(t, tc.key, data, true)
		}
		// Every body but the empty one (a checksum header, no body to chunk)
		// went aws-chunked with a CRC32 trailer.
		for i, s := range rec.bodySHA256s() {
			want := "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
			if i == 0 {
				want = "UNSIGNED-PAYLOAD"
			}
			if s != want {
				t.Errorf("aws-sdk-go-v2 over HTTPS sent PutObject %d with x-amz-content-sha256 %q, want %s", i, s, want)
			}
		}
		if got := reqs.bodies("/lake/sdk/"); got["STREAMING-UNSIGNED-PAYLOAD-TRAILER"] != 4 {
			t.Errorf("gateways took bodies %v under sdk/, want 4 aws-chunked with trailers", got)
		}

		// Each checksum algorithm S3 takes, in the trailer.
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme,
			types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
			key := "sdk/alg-" + strings.ToLower(string(alg)) + ".bin"
			data := randomBytes(uint64(len(key)), 300<<10+len(key))
			if _, err := c.sdkAt(t, other, rec, true).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key),
				Body: bytes.NewReader(data), ChecksumAlgorithm: alg}); err != nil {
				t.Fatalf("PutObject with %s: %v", alg, err)
			}
			c.checkEverywhere(t, key, data, true)
		}
		if got := reqs.bodies("/lake/sdk/"); got["STREAMING-UNSIGNED-PAYLOAD-TRAILER"] != 8 {
			t.Errorf("gateways took bodies %v under sdk/, want 8 aws-chunked with trailers", got)
		}

		// A multipart upload by the SDK itself: parts aws-chunked with CRC32
		// trailers, the completion naming the object's composite CRC32.
		mpKey := "sdk/mp.bin"
		data := randomBytes(104, multiSize)
		cl := c.sdkAt(t, other, rec, true)
		up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(mpKey),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: types.ChecksumTypeComposite})
		if err != nil {
			t.Fatal(err)
		}
		var parts []types.CompletedPart
		var sums []byte
		for n, off := int32(1), 0; off < len(data); n, off = n+1, off+partSize {
			part := data[off:min(off+partSize, len(data))]
			out, err := c.sdkAt(t, int(n)%3, rec, true).UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(mpKey),
				UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(part), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", n, err)
			}
			want := crc32.ChecksumIEEE(part)
			if got := aws.ToString(out.ChecksumCRC32); got != b64uint32(want) {
				t.Errorf("UploadPart %d answered CRC32 %q, want %q", n, got, b64uint32(want))
			}
			sums = binary.BigEndian.AppendUint32(sums, want)
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		}
		if _, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(mpKey),
			UploadId: up.UploadId, ChecksumCRC32: aws.String(b64uint32(crc32.ChecksumIEEE(sums))), ChecksumType: types.ChecksumTypeComposite,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		c.checkEverywhere(t, mpKey, data, true)
		if got := reqs.bodies("/lake/sdk/"); got["STREAMING-UNSIGNED-PAYLOAD-TRAILER"] != 11 {
			t.Errorf("gateways took bodies %v under sdk/, want 11 aws-chunked with trailers", got)
		}

		// CopyObject and DeleteObject: served (and gone) everywhere at once.
		if _, err := c.sdkAt(t, other, nil, true).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("lake"),
			Key: aws.String("sdk/copy.bin"), CopySource: aws.String("lake/sdk/big.bin")}); err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		c.checkEverywhere(t, "sdk/copy.bin", randomBytes(100+3<<20+11, 3<<20+11), false)
		if _, err := c.sdkAt(t, owner, nil, true).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lake"), Key: aws.String("sdk/three.bin")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		c.checkAbsent(t, "sdk/three.bin")
	})

	t.Run("bad checksum", func(t *testing.T) {
		// A body corrupted after the SDK computed its CRC32 trailer: BadDigest,
		// and the old object stays everywhere.
		old := randomBytes(200, 100<<10)
		key := "bad/crc.bin"
		if _, err := c.sdkAt(t, 0, nil, true).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Body: bytes.NewReader(old)}); err != nil {
			t.Fatal(err)
		}
		c.checkEverywhere(t, key, old, true)
		for i := range c.lc.Nodes {
			rec := &recorder{}
			rec.setCorrupt(func(r *http.Request) bool { return r.Method == http.MethodPut }, 5000)
			_, err := c.sdkAt(t, i, rec, false).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(key),
				Body: bytes.NewReader(randomBytes(201, 100<<10))})
			if code := apiCode(err); code != "BadDigest" {
				t.Errorf("corrupted aws-chunked PutObject through node %d: %v, want BadDigest", i, err)
			}
			if s := rec.bodySHA256s(); len(s) != 1 || s[0] != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
				t.Errorf("the corrupted PutObject was sent as %q", s)
			}
		}
		c.checkEverywhere(t, key, old, false)
		// A body never written before: nothing appears.
		rec := &recorder{}
		rec.setCorrupt(func(r *http.Request) bool { return r.Method == http.MethodPut }, 70000)
		_, err := c.sdkAt(t, 1, rec, false).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("bad/new.bin"),
			Body: bytes.NewReader(randomBytes(202, 100<<10))})
		if code := apiCode(err); code != "BadDigest" {
			t.Errorf("corrupted PutObject of a new key: %v, want BadDigest", err)
		}
		c.checkAbsent(t, "bad/new.bin")
	})

	t.Run("aws-cli", func(t *testing.T) {
		awsBin := needTool(t, "aws", "pip install awscli, or apt-get install awscli")
		env := awsWriteEnv(t, c.ca)
		src := t.TempDir()
		files := map[string][]byte{
			"multi.bin":          randomBytes(300, multiSize),
			"up/a.txt":           []byte("a\n"),
			"up/sub/b.bin":       randomBytes(301, 100<<10+3),
			"up/sub/deep/c.bin":  randomBytes(302, partSize+4321), // two parts
			"up/sub/deep/e.bin":  {},
			"up/odd name +ü.txt": []byte("odd\n"),
		}
		writeFiles(t, src, files)
		_, other := c.owners(t, "lake/cli/multi.bin")
		cli := func(i int, args ...string) []byte {
			return runTool(t, env, awsBin, append([]string{"--endpoint-url", c.endpoint(i)}, args...)...)
		}
		cli(other, "s3", "cp", "--only-show-errors", filepath.Join(src, "multi.bin"), "s3://lake/cli/multi.bin")
		c.checkEverywhere(t, "cli/multi.bin", files["multi.bin"], true)
		head, err := c.raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("cli/multi.bin")})
		if err != nil || !strings.HasSuffix(strings.Trim(*head.ETag, `"`), "-3") {
			t.Errorf("versitygw's ETag of cli/multi.bin: %v %v, want a three-part ETag", head, err)
		}

		cli(0, "s3", "sync", "--only-show-errors", filepath.Join(src, "up"), "s3://lake/cli/sync/")
		for name, b := range files {
			if rest, ok := strings.CutPrefix(name, "up/"); ok {
				c.checkEverywhere(t, "cli/sync/"+rest, b, true)
			}
		}
		down := t.TempDir()
		cli(2, "s3", "sync", "--only-show-errors", "s3://lake/cli/sync/", down)
		for name, b := range files {
			if rest, ok := strings.CutPrefix(name, "up/"); ok {
				mustEqual(t, "s3 sync down "+rest, readFile(t, filepath.Join(down, filepath.FromSlash(rest))), b)
			}
		}
		// A second sync has nothing to do; one after a change sends it.
		before := reqs.ops("/lake/cli/sync/")
		cli(1, "s3", "sync", "--only-show-errors", filepath.Join(src, "up"), "s3://lake/cli/sync/")
		if after := reqs.ops("/lake/cli/sync/"); after["PutObject"] != before["PutObject"] {
			t.Errorf("an unchanged sync wrote: %v, then %v", before, after)
		}
		changed := randomBytes(303, 7000)
		if err := os.WriteFile(filepath.Join(src, "up/sub/b.bin"), changed, 0o644); err != nil {
			t.Fatal(err)
		}
		cli(1, "s3", "sync", "--only-show-errors", filepath.Join(src, "up"), "s3://lake/cli/sync/")
		c.checkEverywhere(t, "cli/sync/sub/b.bin", changed, true)

		// Down again with ranged, parallel GETs (5 MiB pieces).
		out := filepath.Join(t.TempDir(), "multi.bin")
		cli(0, "s3", "cp", "--only-show-errors", "s3://lake/cli/multi.bin", out)
		mustEqual(t, "s3 cp down cli/multi.bin", readFile(t, out), files["multi.bin"])
		// A copy inside the lake (below the multipart threshold: CopyObject;
		// above it the CLI copies with UploadPartCopy, which the gateway
		// does not implement).
		cli(1, "s3", "cp", "--only-show-errors", "s3://lake/cli/sync/sub/b.bin", "s3://lake/cli/copied.bin")
		c.checkEverywhere(t, "cli/copied.bin", changed, false)
		// rm --recursive (a DeleteObject per key) and s3api delete-objects
		// (DeleteObjects; botocore sends a CRC32 of the body, not a
		// Content-MD5): every node answers 404 at once.
		before = reqs.ops("/lake") // DeleteObjects is a POST of /lake
		cli(2, "s3", "rm", "--only-show-errors", "--recursive", "s3://lake/cli/sync/")
		cli(0, "s3api", "delete-objects", "--bucket", "lake", "--delete", `{"Objects":[{"Key":"cli/copied.bin"},{"Key":"cli/multi.bin"}]}`)
		for name := range files {
			if rest, ok := strings.CutPrefix(name, "up/"); ok {
				c.checkAbsent(t, "cli/sync/"+rest)
			}
		}
		c.checkAbsent(t, "cli/copied.bin")
		c.checkAbsent(t, "cli/multi.bin")
		if after := reqs.ops("/lake"); after["DeleteObjects"]-before["DeleteObjects"] != 1 || after["DeleteObject"]-before["DeleteObject"] != 5 {
			t.Errorf("aws s3 rm --recursive, s3api delete-objects: %v then %v, want 5 DeleteObject and one DeleteObjects", before, after)
		}

		forms := reqs.bodies("/lake/cli/")
		t.Logf("aws CLI bodies: %v", forms)
		if forms["STREAMING-UNSIGNED-PAYLOAD-TRAILER"] == 0 {
			t.Errorf("the aws CLI over HTTPS sent no aws-chunked body with a trailer: %v", forms)
		}
		if ops := reqs.ops("/lake/cli/"); ops["UploadPart"] != 5 || ops["CompleteMultipartUpload"] != 2 {
			t.Errorf("aws CLI: %v, want 5 parts in 2 multipart uploads", ops)
		}
	})

	t.Run("boto3", func(t *testing.T) {
		py := needBoto3(t)
		dir := t.TempDir()
		script := filepath.Join(dir, "up.py")
		if err := os.WriteFile(script, []byte(boto3WriteScript), 0o600); err != nil {
			t.Fatal(err)
		}
		objs := map[string][]byte{
			"boto3/default.bin": randomBytes(400, multiSize),
			"boto3/sha256.bin":  randomBytes(401, partSize+999),
			"boto3/put.bin":     randomBytes(402, 200<<10+1),
		}
		args := []string{script}
		for _, k := range []string{"boto3/default.bin", "boto3/sha256.bin", "boto3/put.bin"} { // the script's order
			p := filepath.Join(dir, filepath.Base(k))
			if err := os.WriteFile(p, objs[k], 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, p, k)
		}
		_, other := c.owners(t, "lake/boto3/default.bin")
		env := append(awsWriteEnv(t, c.ca), "GW_ENDPOINT="+c.endpoint(other))
		out := runTool(t, env, py, args...)
		t.Logf("boto3: %s", out)
		for k, b := range objs {
			c.checkEverywhere(t, k, b, true)
		}
		for _, k := range []string{"boto3/default.bin", "boto3/sha256.bin"} {
			mustEqual(t, "boto3 download_file "+k, readFile(t, filepath.Join(dir, filepath.Base(k))+".down"), objs[k])
		}
		forms := reqs.bodies("/lake/boto3/")
		if forms["STREAMING-UNSIGNED-PAYLOAD-TRAILER"] < 5 {
			t.Errorf("boto3 over HTTPS: bodies %v, want every part and put aws-chunked with a trailer", forms)
		}
		if !strings.Contains(string(out), "ChecksumCRC32") {
			t.Errorf("boto3: put_object got no CRC32 checksum back: %s", out)
		}
	})
}

// awsWriteEnv is awsEnv with the cluster's CA trusted (AWS_CA_BUNDLE) and
// multipart uploads of 5 MiB parts from 5 MiB on.
func awsWriteEnv(t testing.TB, ca string) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config")
	conf := "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(awsEnv(t), "AWS_CONFIG_FILE="+cfg)
	if ca != "" {
		env = append(env, "AWS_CA_BUNDLE="+ca)
	}
	return env
}

// needBoto3 returns python3 when it imports boto3, or skips (fails under
// requireToolsEnv).
func needBoto3(t testing.TB) string {
	t.Helper()
	py := needTool(t, "python3", "apt-get install python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		msg := "boto3 not importable by python3 (pip install boto3); .ci/run installs it, so CI runs this test"
		if os.Getenv(requireToolsEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// boto3WriteScript uploads its (file, key) argument pairs to the gateway
// GW_ENDPOINT: the first with upload_file's defaults (multipart, CRC32),
// the second with upload_file and ChecksumAlgorithm SHA256, the rest with
// put_object; it prints each answer's checksums and downloads the first
// two back to FILE.down.
const boto3WriteScript = `
import json, os, sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

s3 = boto3.client("s3", endpoint_url=os.environ["GW_ENDPOINT"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
tc = TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024, max_concurrency=2)
a = sys.argv[1:]
pairs = list(zip(a[0::2], a[1::2]))
res = {}
s3.upload_file(pairs[0][0], "lake", pairs[0][1], Config=tc)
s3.upload_file(pairs[1][0], "lake", pairs[1][1], Config=tc, ExtraArgs={"ChecksumAlgorithm": "SHA256"})
for f, k in pairs[2:]:
    with open(f, "rb") as b:
        r = s3.put_object(Bucket="lake", Key=k, Body=b)
    res[k] = {x: r[x] for x in r if x.startswith("Checksum")}
for f, k in pairs[:2]:
    h = s3.head_object(Bucket="lake", Key=k)
    res[k] = {"size": h["ContentLength"], "etag": h["ETag"]}
    s3.download_file("lake", k, f + ".down", Config=tc)
json.dump(res, sys.stdout)
`

// b64uint32 is a CRC32 as S3 writes it: big-endian, base64.
func b64uint32(v uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, v))
}
