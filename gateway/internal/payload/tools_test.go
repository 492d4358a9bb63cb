package payload

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// awsCLI finds the aws CLI (botocore, the engine of boto3) or skips.
func awsCLI(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/root/.pyenv/shims/aws"); err == nil {
		return "/root/.pyenv/shims/aws"
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("RINGCACHE_REQUIRE_S3_TOOLS") != "" {
			t.Fatal("aws CLI not installed and RINGCACHE_REQUIRE_S3_TOOLS is set")
		}
		t.Skip("aws CLI not installed (looked in /root/.pyenv/shims and PATH); skipping")
	}
	return p
}

// TestAWSCLIPutObjectBodies decodes what botocore sends for put-object,
// over HTTPS (aws-chunked with a trailer by default) and over HTTP.
func TestAWSCLIPutObjectBodies(t *testing.T) {
	cli := awsCLI(t)
	for i, c := range []struct {
		name string
		tls  bool
		args []string
	}{
		{"https default", true, nil},
		{"https sha256", true, []string{"--checksum-algorithm", "SHA256"}},
		{"http default", false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			seed := uint64(5000 + i)
			rec := newRecorder(t, c.tls)
			data := randBytes(seed, 150<<10+1)
			file := filepath.Join(t.TempDir(), "obj")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"--endpoint-url", rec.URL, "--no-verify-ssl", "s3api", "put-object", "--bucket", "bucket", "--key", "dir/obj", "--body", file}, c.args...)
			cmd := exec.CommandContext(ctx, cli, args...)
			cmd.Env = append(os.Environ(),
				"AWS_ACCESS_KEY_ID="+testAK, "AWS_SECRET_ACCESS_KEY="+testSK, "AWS_DEFAULT_REGION="+testRegion,
				"AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"),
				"AWS_EC2_METADATA_DISABLED=true", "PYTHONWARNINGS=ignore")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, out)
			}
			rq := rec.last(t)
			t.Logf("seed %d: %s", seed, describe(rq.header))
			got, r, err := decode(t, rq.body, rq.spec(t), seed)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, differ from the %d sent", len(got), len(data))
			}
			for alg, v := range r.Checksums() {
				if ref := refSum(alg, data); ref != "" && ref != v {
					t.Fatalf("checksum %s %s, independent %s", alg, v, ref)
				}
			}
		})
	}
}
