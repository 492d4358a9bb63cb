package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/understore"
)

// The write operations' XML bodies come from clients: their parsers must
// never panic, and must answer a 4xx S3 error or a result that keeps
// their promises.

func FuzzCompleteRequest(f *testing.F) {
	for _, s := range []string{
		`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><ETag>a</ETag><PartNumber>1</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>3</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&a;</ETag></Part></CompleteMultipartUpload>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := parseCompleteRequest(data)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(parts) == 0 || len(parts) > understore.MaxParts {
			t.Fatalf("%d parts accepted", len(parts))
		}
		for i, p := range parts {
			if p.Number < 1 || p.Number > understore.MaxParts || (i > 0 && p.Number <= parts[i-1].Number) {
				t.Fatalf("part %d numbered %d accepted", i, p.Number)
			}
			if p.ETag == "" || strings.HasPrefix(p.ETag, `"`) || strings.HasSuffix(p.ETag, `"`) {
				t.Fatalf("part %d ETag %q accepted", i, p.ETag)
			}
		}
	})
}

func FuzzDeleteRequest(f *testing.F) {
	for _, s := range []string{
		`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>v</VersionId></Object></Delete>`,
		`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>`,
		`<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>`,
		`<Delete><Object><Key></Key></Object></Delete>`,
		`<Delete></Delete>`,
		`<Delete><Object>`,
		`<CompleteMultipartUpload/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, targets, err := parseDeleteRequest(data)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(targets) == 0 || len(targets) > maxDeleteKeys {
			t.Fatalf("%d keys accepted", len(targets))
		}
	})
}

// checkRefusal checks that a parser's error is an S3 client error.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var se *s3Error
	if !errors.As(err, &se) || se.Status < 400 || se.Status >= 500 || se.Code == "" {
		t.Fatalf("refusal %v is not a 4xx S3 error", err)
	}
}

// FuzzCopySource: x-amz-copy-source parses to a valid path or a 4xx/501
// S3 error.
func FuzzCopySource(f *testing.F) {
	for _, s := range []string{"lake/a%20b/c", "/lake/k", "lake/k?versionId=1", "lake", "lake/%zz", "lake/a/../b", "/lake/dir/", "lake/k?x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		bucket, key, err := copySource(v)
		if err != nil {
			var se *s3Error
			if !errors.As(err, &se) || se.Status < 400 || se.Code == "" {
				t.Fatalf("refusal %v is not an S3 error", err)
			}
			return
		}
		if bucket == "" || key == "" || strings.Contains(bucket, "/") {
			t.Fatalf("%q parsed to %q, %q", v, bucket, key)
		}
	})
}
