package sigv4

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLI finds the aws CLI or skips the test.
func awsCLI(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/root/.pyenv/shims/aws"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed (looked in /root/.pyenv/shims and PATH); skipping")
	}
	return p
}

func toolEnv(t *testing.T) []string {
	return append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testAK, "AWS_SECRET_ACCESS_KEY="+testSK,
		"AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED=true")
}

func TestAWSCLISignaturesVerify(t *testing.T) {
	cli := awsCLI(t)
	g := newGateway(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{
		{"s3api", "get-object", "--bucket", "bucket", "--key", oddKey, "--range", "bytes=0-4", out},
		{"s3api", "head-object", "--bucket", "bucket", "--key", oddKey},
		{"s3api", "list-objects-v2", "--bucket", "bucket", "--prefix", oddKey},
	} {
		cmd := exec.CommandContext(ctx, cli, append([]string{"--endpoint-url", g.URL}, args...)...)
		cmd.Env = append(toolEnv(t), "AWS_S3_ADDRESSING_STYLE=path")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("aws %s: %v\n%s", strings.Join(args[:2], " "), err, b)
		}
	}
	g.requireAllValid(t)
}

// botoScript signs with boto3/botocore: get_object, a presigned URL fetched
// with urllib, and an empty PUT that signs "content-length: 0" (which the
// SDK signer cannot express, so it checks canonicalSignature against an
// independent implementation).
const botoScript = `
import sys, urllib.request
import boto3, botocore
from botocore.config import Config
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=url, region_name="ap-south-1",
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))
s3.get_object(Bucket="bucket", Key=key, Range="bytes=0-1")["Body"].read()
s3.head_object(Bucket="bucket", Key=key)
s3.list_objects_v2(Bucket="bucket", Prefix=key)
u = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": key, "ResponseContentType": "text/csv"}, ExpiresIn=300)
urllib.request.urlopen(u).read()
creds = Credentials(sys.argv[3], sys.argv[4])
req = AWSRequest(method="PUT", url=url + "/bucket/dir%20marker/", data=b"",
    headers={"Content-Length": "0", "Content-Type": "application/x-directory", "X-Amz-Content-Sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})
S3SigV4Auth(creds, "s3", "eu-central-1").add_auth(req)
assert "content-length" in req.headers["Authorization"], req.headers["Authorization"]
p = req.prepare()
r = urllib.request.Request(p.url, data=b"", method="PUT", headers=dict(p.headers))
urllib.request.urlopen(r).read()
`

func TestBoto3SignaturesVerify(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; skipping boto3")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not importable by python3; skipping")
	}
	g := newGateway(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", botoScript, g.URL, oddKey, testAK, testSK)
	cmd.Env = toolEnv(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("boto3: %v\n%s", err, b)
	}
	g.requireAllValid(t)
	all := g.all()
	if n := len(all); n != 5 {
		t.Fatalf("the gateway saw %d requests, want 5", n)
	}
	if last := all[4]; last.method != "PUT" || !strings.Contains(strings.Join(last.cred.SignedHeaders, ";"), "content-length") {
		t.Errorf("empty PUT: %s %v", last.method, last.cred.SignedHeaders)
	}
}
