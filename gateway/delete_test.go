package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestDeleteObjectSDK: DeleteObject answers 204 for a present key (which
// is gone after, from reads and listings at once) and for a missing one;
// a missing bucket is NoSuchBucket.
func TestDeleteObjectSDK(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, cl, "d/"); len(keys) != 1 {
		t.Fatalf("listing before: %v", keys)
	}
	for range 2 { // present, then missing
		if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.file(t, "lake/d/x"); err == nil {
		t.Error("the object is still there")
	}
	if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("d/x")}); apiCode(err) != "NoSuchKey" {
		t.Errorf("GET after delete: %v", err)
	}
	if keys := listKeys(t, cl, "d/"); len(keys) != 0 {
		t.Errorf("listing after the delete: %v", keys)
	}
	_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("x")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("delete in a missing bucket: %v", err)
	}
}

// TestDeleteObjectsSDK: DeleteObjects (the SDK sends its CRC32) deletes
// present and missing keys alike, reports a bad key as that key's error,
// and in quiet mode lists only the errors.
func TestDeleteObjectsSDK(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	var keys []string
	for i := range 40 {
		k := "dd/k" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)
		keys = append(keys, k)
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := listKeys(t, cl, "dd/"); len(got) != len(keys) {
		t.Fatalf("listing before: %d keys", len(got))
	}
	ids := func(ks ...string) []types.ObjectIdentifier {
		var out []types.ObjectIdentifier
		for _, k := range ks {
			out = append(out, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	verbose := append(append([]string{}, keys[:30]...), "dd/missing", "dd/../bad")
	out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lake"), Delete: &types.Delete{Objects: ids(verbose...)}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	if want := verbose[:31]; !slices.Equal(deleted, want) {
		t.Errorf("Deleted %v, want %v", deleted, want)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "dd/../bad" || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
		t.Errorf("Errors %+v, want dd/../bad InvalidArgument", out.Errors)
	}
	out, err = cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lake"),
		Delete: &types.Delete{Objects: ids(keys[30:]...), Quiet: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("quiet: %d deleted, %d errors listed", len(out.Deleted), len(out.Errors))
	}
	if got := listKeys(t, cl, "dd/"); len(got) != 0 {
		t.Errorf("listing after: %v", got)
	}
	for _, k := range keys {
		if _, err := e.file(t, "lake/"+k); err == nil {
			t.Errorf("%s is still there", k)
		}
	}
}
