package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/tlsconf/certgen"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// requireToolsEnv, when set (CI sets it in .ci/run), turns a missing
// client tool or versitygw into a failure instead of a skip: CI installs
// them all, so a skip there would hide a broken install.
const requireToolsEnv = "RINGCACHE_REQUIRE_S3_TOOLS"

// needTool returns the path of a client program, or skips the test (fails
// it under requireToolsEnv) with what to install.
func needTool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not installed (" + install + "); .ci/run installs it, so CI runs this test"
	if os.Getenv(requireToolsEnv) != "" {
		t.Fatalf("%s, but %s is set", msg, requireToolsEnv)
	}
	t.Skip(msg)
	return ""
}

// s3Cluster starts n nodes with gateways over a real S3 under-store:
// versitygw on a temporary directory, holding the bucket "lake", opened by
// the nodes as s3:// (every bucket) with path-style addressing.
func s3Cluster(t testing.TB, n int, auth string) *cluster {
	t.Helper()
	c := newS3Cluster(t)
	c.start(n, auth, nil)
	return c
}

// s3ClusterWith is s3Cluster with the nodes' Config changed by tweak.
func s3ClusterWith(t testing.TB, n int, auth string, tweak func(*node.Config)) *cluster {
	t.Helper()
	c := newS3Cluster(t)
	c.start(n, auth, tweak)
	return c
}

// s3TLSCluster is s3Cluster with TLS on every node (node.Config.TLS: a
// development CA and one node certificate for 127.0.0.1): the gateways
// serve HTTPS, which is where aws-sdk-go-v2 and botocore send aws-chunked
// bodies with checksum trailers. c.ca is the CA to trust; tweak changes
// the rest of the nodes' Config.
func s3TLSCluster(t testing.TB, n int, auth string, tweak func(*node.Config)) *cluster {
	t.Helper()
	dir := t.TempDir()
	if err := certgen.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	crt, key, err := certgen.Issue(dir, certgen.Request{Kind: certgen.Node, Name: "node", Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	files := tlsconf.Files{Cert: crt, Key: key, CA: filepath.Join(dir, certgen.CACert)}
	r, err := tlsconf.NewReloader(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newS3Cluster(t)
	c.ca = files.CA
	c.start(n, auth, func(cfg *node.Config) {
		cfg.TLS = r
		if tweak != nil {
			tweak(cfg)
		}
	})
	return c
}

// newS3Cluster is s3Cluster's under-store, before any node starts.
func newS3Cluster(t testing.TB) *cluster {
	t.Helper()
	if s3test.VersityBinary() == "" && os.Getenv(requireToolsEnv) != "" {
		t.Fatalf("versitygw not installed, but %s is set", requireToolsEnv)
	}
	ep, ak, sk := s3test.StartVersity(t)
	s3test.CreateBucket(t, ep, ak, sk, "lake")
	s, err := understore.Open(context.Background(), understore.Config{
		URL: "s3://", Endpoint: ep, PathStyle: true, AccessKey: ak, SecretKey: sk,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &cluster{t: t, raw: s3test.Client(ep, ak, sk), store: &countingStore{Store: s}}
}

// putS3 writes an object straight to the S3 under-store.
func (c *cluster) putS3(t testing.TB, path string, data []byte) {
	t.Helper()
	bucket, key, _ := strings.Cut(path, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.raw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("seed %s: %v", path, err)
	}
}

// rawKeys lists every key under prefix straight from the S3 under-store:
// what S3 itself lists, the reference for the gateway's listings.
func (c *cluster) rawKeys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c.raw, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// owners returns the index of the node that owns path and of one that
// does not, so a test reads through both (served here, and forwarded).
func (c *cluster) owners(t testing.TB, path string) (owner, other int) {
	t.Helper()
	resp, err := c.lc.Nodes[0].Affinity(context.Background(), &transport.AffinityRequest{Paths: []string{path}, N: 1})
	if err != nil || len(resp.Results) != 1 || len(resp.Results[0].Nodes) == 0 {
		t.Fatalf("affinity of %s: %v %+v", path, err, resp)
	}
	id := resp.Results[0].Nodes[0].ID
	owner, other = -1, -1
	for i, n := range c.lc.Nodes {
		if n.ID() == id {
			owner = i
		} else if other < 0 {
			other = i
		}
	}
	if owner < 0 || (len(c.lc.Nodes) > 1 && other < 0) {
		t.Fatalf("owner %s of %s is not a node of the cluster", id, path)
	}
	return owner, other
}

// emptySHA256 is the payload hash of a request without a body.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// signedRequest builds a request for rawURL (sent as written: its path is
// not cleaned or re-encoded, which SDKs would do) signed with SigV4 by
// aws-sdk-go-v2's signer at signingTime.
func signedRequest(t testing.TB, method, rawURL, access, secret string, signingTime time.Time) *http.Request {
	t.Helper()
	return signedRequestHdr(t, method, rawURL, access, secret, signingTime, nil)
}

// signedRequestAt signs with the test key a request carrying the headers
// hdr (signed too).
func signedRequestAt(t testing.TB, method, rawURL string, hdr map[string]string, signingTime time.Time) *http.Request {
	t.Helper()
	return signedRequestHdr(t, method, rawURL, testAccess, testSecret, signingTime, hdr)
}

func signedRequestHdr(t testing.TB, method, rawURL, access, secret string, signingTime time.Time, hdr map[string]string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: access, SecretAccessKey: secret},
		r, emptySHA256, "s3", "us-east-1", signingTime, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// presignedURL is a presigned GET of rawURL valid for expires from
// signingTime.
func presignedURL(t testing.TB, rawURL, access, secret string, signingTime time.Time, expires time.Duration) string {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := r.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires.Seconds())))
	r.URL.RawQuery = q.Encode()
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: access, SecretAccessKey: secret},
		r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", signingTime, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// do sends r and returns the response with its body read.
func do(t testing.TB, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp.Body)
}

// keyOwnedByFirst returns a key of the form prefix+N+suffix whose owner is
// node 0. A node that took over a path at a ring change in the last 15
// minutes (node.handoffWindow) reads it cold with a Stat first, to find
// the previous owner's pages (warm handoff), which costs a cold read two
// under-store requests; node 0 has owned such a key in every ring since
// the cluster started, so the one-request cold read is what it does.
func (c *cluster) keyOwnedByFirst(t testing.TB, bucket, prefix, suffix string) string {
	t.Helper()
	for i := range 1000 {
		k := prefix + strconv.Itoa(i) + suffix
		if owner, _ := c.owners(t, bucket+"/"+k); owner == 0 {
			return k
		}
	}
	t.Fatalf("no key %s*%s owned by node 0", prefix, suffix)
	return ""
}

// signedGet sends a GET of rawURL signed with the test key now.
func signedGet(t testing.TB, rawURL string) (*http.Response, []byte) {
	t.Helper()
	return do(t, signedRequest(t, http.MethodGet, rawURL, testAccess, testSecret, time.Now()))
}

// putMany writes the objects (path -> bytes) into the under-store, eight
// at a time.
func (c *cluster) putMany(t testing.TB, objs map[string][]byte) {
	t.Helper()
	if c.raw == nil {
		for p, b := range objs {
			c.put(t, p, b)
		}
		return
	}
	paths := make(chan string)
	errs := make(chan error, len(objs))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for p := range paths {
				bucket, key, _ := strings.Cut(p, "/")
				_, err := c.raw.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(objs[p])})
				if err != nil {
					errs <- fmt.Errorf("seed %s: %w", p, err)
				}
			}
		})
	}
	for p := range objs {
		paths <- p
	}
	close(paths)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
