package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The client programs run as child processes with a temporary HOME and
// every setting in environment variables or files under t.TempDir(): the
// user's own configuration (~/.aws, ~/.s3cfg, rclone.conf) is never read
// or written.

// endpoint is one gateway a client is pointed at.
type endpoint = struct{ name, url string }

// toolEnv is the environment of a client program: the test process's,
// without any AWS_/RCLONE_ settings, with HOME in a temporary directory
// (pyenv shims still find their root) and extra appended.
func toolEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "RCLONE_") || name == "HOME" || name == "BOTO_CONFIG" {
			continue
		}
		env = append(env, kv)
	}
	if home, err := os.UserHomeDir(); err == nil && os.Getenv("PYENV_ROOT") == "" {
		if fi, err := os.Stat(filepath.Join(home, ".pyenv")); err == nil && fi.IsDir() {
			env = append(env, "PYENV_ROOT="+filepath.Join(home, ".pyenv"))
		}
	}
	env = append(env, "HOME="+t.TempDir())
	return append(env, extra...)
}

// runTool runs a client program and returns its stdout; a failure fails
// the test with its stderr.
func runTool(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstderr:\n%s\nstdout:\n%s", filepath.Base(name), args, err, stderr.String(), stdout.String())
	}
	return stdout.Bytes()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// awsEnv configures the aws CLI and boto3: the gateway's key, path-style
// addressing (in a config file of the test's own), no instance metadata.
func awsEnv(t testing.TB) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return toolEnv(t, "AWS_ACCESS_KEY_ID="+testAccess, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED=true")
}

// lsLine is one line of `aws s3 ls --recursive`: date, time, size, key.
var lsLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +(\d+) (.+)$`)

func testAWSCLI(t *testing.T, c *cluster, l *lake, eps []endpoint, wantKeys []string) {
	aws := needTool(t, "aws", "pip install awscli, or apt-get install awscli")
	env := awsEnv(t)
	big := l.objects[l.big]
	for _, ep := range eps {
		cli := func(args ...string) []byte {
			return runTool(t, env, aws, append([]string{"--endpoint-url", ep.url}, args...)...)
		}
		// To stdout, and to a file (ranged, parallel GETs above 8 MiB).
		mustEqual(t, ep.name+" s3 cp -", cli("s3", "cp", "s3://lake/"+l.big, "-"), big)
		out := filepath.Join(t.TempDir(), "multi.bin")
		cli("s3", "cp", "--only-show-errors", "s3://lake/"+l.multi, out)
		mustEqual(t, ep.name+" s3 cp "+l.multi, readFile(t, out), l.objects[l.multi])
		if ep.name == eps[0].name {
			cli("s3", "cp", "--only-show-errors", "s3://lake/"+l.odd, out)
			mustEqual(t, ep.name+" s3 cp odd key", readFile(t, out), l.objects[l.odd])
			if b := lines(cli("s3", "ls")); len(b) != 1 || !strings.HasSuffix(b[0], " lake") {
				t.Errorf("aws s3 ls (buckets): %q", b)
			}
		}

		var keys []string
		for _, line := range lines(cli("s3", "ls", "--recursive", "s3://lake/")) {
			m := lsLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: s3 ls line %q", ep.name, line)
			}
			if size, _ := strconv.Atoi(m[1]); size != len(l.objects[m[2]]) {
				t.Errorf("%s: s3 ls: %q has size %d, want %d", ep.name, m[2], size, len(l.objects[m[2]]))
			}
			keys = append(keys, m[2])
		}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("%s: s3 ls --recursive: %q, want %q", ep.name, keys, wantKeys)
		}

		rs := pageRanges(int64(len(big)))
		for _, r := range []rangeCase{rs[0], rs[len(rs)-1]} { // across a page boundary, suffix
			var res struct{ ContentRange string }
			if err := json.Unmarshal(cli("s3api", "get-object", "--bucket", "lake", "--key", l.big, "--range", r.hdr, out), &res); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, len(big)); res.ContentRange != want {
				t.Errorf("%s: get-object %s: ContentRange %q, want %q", ep.name, r.hdr, res.ContentRange, want)
			}
			mustEqual(t, ep.name+" get-object "+r.hdr, readFile(t, out), big[r.start:r.end])
		}
		var head struct {
			ContentLength int64
			ETag          string
		}
		if err := json.Unmarshal(cli("s3api", "head-object", "--bucket", "lake", "--key", l.big), &head); err != nil {
			t.Fatal(err)
		}
		if head.ContentLength != int64(len(big)) || head.ETag == "" {
			t.Errorf("%s: head-object: %+v", ep.name, head)
		}
	}
}

// boto3Script exercises boto3 against one gateway (GW_* variables) and
// prints what it saw as JSON; bodies go to files under GW_OUT.
const boto3Script = `
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

e = os.environ
out = e["GW_OUT"]
s3 = boto3.client("s3", endpoint_url=e["GW_ENDPOINT"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
res = {}
r = s3.get_object(Bucket="lake", Key=e["GW_BIG"], Range=e["GW_RANGE"])
open(os.path.join(out, "range.bin"), "wb").write(r["Body"].read())
res["content_range"] = r["ContentRange"]
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lake", PaginationConfig={"PageSize": 3}):
    keys += [o["Key"] for o in page.get("Contents", [])]
res["keys"] = keys
h = s3.head_object(Bucket="lake", Key=e["GW_BIG"])
res["etag"], res["size"] = h["ETag"], h["ContentLength"]
try:
    s3.head_object(Bucket="lake", Key=e["GW_BIG"], IfNoneMatch=h["ETag"])
    res["if_none_match"] = "200"
except ClientError as err:
    res["if_none_match"] = err.response["Error"]["Code"]
s3.download_file("lake", e["GW_MULTI"], os.path.join(out, "multi.bin"))
r = s3.get_object(Bucket="lake", Key=e["GW_ODD"])
open(os.path.join(out, "odd.bin"), "wb").write(r["Body"].read())
json.dump(res, sys.stdout)
`

func testBoto3(t *testing.T, l *lake, eps []endpoint, wantKeys []string) {
	py := needTool(t, "python3", "apt-get install python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		msg := "boto3 not importable by python3 (pip install boto3, or apt-get install python3-boto3); .ci/run installs it, so CI runs this test"
		if os.Getenv(requireToolsEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	script := filepath.Join(t.TempDir(), "gw.py")
	if err := os.WriteFile(script, []byte(boto3Script), 0o600); err != nil {
		t.Fatal(err)
	}
	big := l.objects[l.big]
	r := pageRanges(int64(len(big)))[1]
	for _, ep := range eps {
		out := t.TempDir()
		env := append(awsEnv(t), "GW_ENDPOINT="+ep.url, "GW_OUT="+out, "GW_BIG="+l.big, "GW_RANGE="+r.hdr,
			"GW_MULTI="+l.multi, "GW_ODD="+l.odd)
		var res struct {
			ContentRange string   `json:"content_range"`
			Keys         []string `json:"keys"`
			ETag         string   `json:"etag"`
			Size         int64    `json:"size"`
			IfNoneMatch  string   `json:"if_none_match"`
		}
		if err := json.Unmarshal(runTool(t, env, py, script), &res); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, ep.name+" boto3 range", readFile(t, filepath.Join(out, "range.bin")), big[r.start:r.end])
		mustEqual(t, ep.name+" boto3 download_file", readFile(t, filepath.Join(out, "multi.bin")), l.objects[l.multi])
		mustEqual(t, ep.name+" boto3 odd key", readFile(t, filepath.Join(out, "odd.bin")), l.objects[l.odd])
		if want := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, len(big)); res.ContentRange != want {
			t.Errorf("%s: ContentRange %q, want %q", ep.name, res.ContentRange, want)
		}
		if !slices.Equal(res.Keys, wantKeys) {
			t.Errorf("%s: list_objects_v2 paginator: %q, want %q", ep.name, res.Keys, wantKeys)
		}
		if res.Size != int64(len(big)) || res.ETag == "" || res.IfNoneMatch != "304" {
			t.Errorf("%s: head_object: %+v (want If-None-Match answered 304)", ep.name, res)
		}
	}
}

func testS3cmd(t *testing.T, l *lake, eps []endpoint) {
	s3cmd := needTool(t, "s3cmd", "apt-get install s3cmd")
	big := l.objects[l.big]
	for _, ep := range eps {
		host := strings.TrimPrefix(ep.url, "http://")
		cfg := filepath.Join(t.TempDir(), "s3cfg")
		conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"+
			"use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n", testAccess, testSecret, host, host)
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		env := toolEnv(t)
		run := func(args ...string) []byte {
			return runTool(t, env, s3cmd, append([]string{"-c", cfg, "--no-progress"}, args...)...)
		}
		out := filepath.Join(t.TempDir(), "big.bin")
		run("get", "--force", "s3://lake/"+l.big, out)
		mustEqual(t, ep.name+" s3cmd get", readFile(t, out), big)
		run("get", "--force", "s3://lake/"+l.odd, out)
		mustEqual(t, ep.name+" s3cmd get odd key", readFile(t, out), l.objects[l.odd])

		var dirs []string
		for _, line := range lines(run("ls", "s3://lake/dir/")) {
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == "DIR" {
				dirs = append(dirs, f[1])
			}
		}
		if want := []string{"s3://lake/dir/x/", "s3://lake/dir/y/"}; !slices.Equal(dirs, want) {
			t.Errorf("%s: s3cmd ls dir/: %q, want %q", ep.name, dirs, want)
		}
		var keys []string
		for _, line := range lines(run("ls", "--recursive", "s3://lake/")) {
			_, key, ok := strings.Cut(line, "s3://lake/")
			if !ok {
				t.Fatalf("%s: s3cmd ls line %q", ep.name, line)
			}
			keys = append(keys, key)
		}
		if !slices.Equal(keys, l.keys()) {
			t.Errorf("%s: s3cmd ls --recursive: %q, want %q", ep.name, keys, l.keys())
		}
		if ep.name == eps[0].name {
			if b := lines(run("ls")); len(b) != 1 || !strings.HasSuffix(b[0], "s3://lake") {
				t.Errorf("s3cmd ls (buckets): %q", b)
			}
		}
		info := string(run("info", "s3://lake/"+l.big))
		if !strings.Contains(info, fmt.Sprintf("File size: %d", len(big))) {
			t.Errorf("%s: s3cmd info:\n%s", ep.name, info)
		}
	}
}

func testRclone(t *testing.T, l *lake, eps []endpoint, wantKeys []string) {
	rclone := needTool(t, "rclone", "apt-get install rclone")
	big := l.objects[l.big]
	for _, ep := range eps {
		env := toolEnv(t, "RCLONE_CONFIG="+filepath.Join(t.TempDir(), "rclone.conf"), "RCLONE_S3_PROVIDER=Other",
			"RCLONE_S3_ENDPOINT="+ep.url, "RCLONE_S3_ACCESS_KEY_ID="+testAccess, "RCLONE_S3_SECRET_ACCESS_KEY="+testSecret,
			"RCLONE_S3_FORCE_PATH_STYLE=true", "RCLONE_S3_REGION=us-east-1")
		run := func(args ...string) []byte { return runTool(t, env, rclone, args...) }
		dir := t.TempDir()
		run("copy", ":s3:lake/"+l.big, dir)
		mustEqual(t, ep.name+" rclone copy", readFile(t, filepath.Join(dir, filepath.Base(l.big))), big)
		mustEqual(t, ep.name+" rclone cat", run("cat", ":s3:lake/"+l.big), big)
		off, n := int64(pageSize-100), int64(pageSize+200)
		mustEqual(t, ep.name+" rclone cat --offset --count",
			run("cat", "--offset", strconv.FormatInt(off, 10), "--count", strconv.FormatInt(n, 10), ":s3:lake/"+l.big), big[off:off+n])
		mustEqual(t, ep.name+" rclone cat odd key", run("cat", ":s3:lake/"+l.odd), l.objects[l.odd])
		if ep.name == eps[0].name {
			if b := lines(run("lsf", ":s3:")); len(b) != 1 || b[0] != "lake/" {
				t.Errorf("rclone lsf :s3: (buckets): %q", b)
			}
		}
		keys := lines(run("lsf", "-R", "--files-only", ":s3:lake"))
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("%s: rclone lsf -R: %q, want %q", ep.name, keys, wantKeys)
		}
	}
}
