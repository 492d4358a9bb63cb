// Package s3test starts real S3 servers for tests: gofakes3 in-process, and
// versitygw (a real S3 gateway over a POSIX directory) as a child process
// when its binary is installed. Other packages' integration tests use it to
// run against S3 without docker. It must not be imported by non-test code.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials gofakes3 is used with (it does not check them) and versitygw is
// started with.
const (
	AccessKey = "test"
	SecretKey = "testsecret"
	Region    = "us-east-1"
)

// StartGofakes3 serves an in-memory gofakes3 on a loopback httptest server
// and returns its endpoint (path-style addressing) and a cleanup that stops
// it; cleanup is also registered with t.Cleanup, so calling it is optional.
// Any credentials are accepted.
func StartGofakes3(t testing.TB) (endpoint string, cleanup func()) {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(faker.Server())
	var once sync.Once
	cleanup = func() { once.Do(srv.Close) }
	t.Cleanup(cleanup)
	return srv.URL, cleanup
}

// VersityBinary returns the path of the versitygw binary: on PATH or in
// ~/go/bin. Empty if not installed.
func VersityBinary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// StartVersity starts versitygw with the posix backend on a fresh temporary
// directory and a free loopback port, waits until it answers, and stops it
// at the end of the test. It skips the test when the binary is absent
// (install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0).
func StartVersity(t testing.TB) (endpoint, accessKey, secret string) {
	t.Helper()
	bin := VersityBinary()
	if bin == "" {
		t.Skip("versitygw not installed (not on PATH nor in ~/go/bin); " +
			"go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	}
	dir := t.TempDir()
	var lastErr error
	// The free port is found by binding and releasing it, so another
	// process can take it in between: try a few times.
	for range 3 {
		addr, err := freeAddr()
		if err != nil {
			t.Fatalf("s3test: free port: %v", err)
		}
		var out bytes.Buffer
		cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey,
			"--port", addr, "--quiet", "--keep-alive", "posix", dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("s3test: start versitygw: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		endpoint = "http://" + addr
		if err := waitHTTP(endpoint, exited, 15*time.Second); err != nil {
			cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%w; output:\n%s", err, out.String())
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		return endpoint, AccessKey, SecretKey
	}
	t.Fatalf("s3test: versitygw did not come up: %v", lastErr)
	return "", "", ""
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHTTP polls endpoint until any HTTP response arrives (an unsigned
// request gets 403, which proves the server is serving), the process exits,
// or the deadline passes.
func waitHTTP(endpoint string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("versitygw not answering at " + endpoint)
		}
	}
}

// Client returns a raw SDK client for endpoint (path-style), for setting up
// fixtures behind the back of the code under test.
func Client(endpoint, accessKey, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     Region,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// CreateBucket creates a bucket, failing the test on error.
func CreateBucket(t testing.TB, endpoint, accessKey, secret, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Client(endpoint, accessKey, secret).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("s3test: create bucket %s: %v", bucket, err)
	}
}
