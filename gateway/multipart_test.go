package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ringcache/ringcache/understore"
)

// TestMultipartSDK: an upload of three parts (two of MinPartSize and a
// short last one) through the SDK: create, upload, list the parts and the
// uploads, complete; the object is the parts in order, and it is listed
// at once. A second upload is aborted and is gone after.
func TestMultipartSDK(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	if keys := listKeys(t, cl, "mp/"); len(keys) != 0 {
		t.Fatalf("listing before: %v", keys)
	}
	const key = "mp/big.bin"
	cr, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.UploadId)
	if id == "" || aws.ToString(cr.Key) != key || aws.ToString(cr.Bucket) != "lake" {
		t.Fatalf("create: %+v", cr)
	}
	sizes := []int{understore.MinPartSize, understore.MinPartSize, 12345}
	var whole []byte
	var done []types.CompletedPart
	for i, size := range sizes {
		data := randomBytes(uint64(200+i), size)
		whole = append(whole, data...)
		alg := types.ChecksumAlgorithm("")
		if i == 1 {
			alg = types.ChecksumAlgorithmCrc32
		}
		out, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		if alg != "" && aws.ToString(out.ChecksumCRC32) == "" {
			t.Errorf("part %d: checksum not echoed", i+1)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}

	lp, err := cl.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: aws.String(id), MaxParts: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" ||
		aws.ToInt64(lp.Parts[0].Size) != int64(sizes[0]) || aws.ToString(lp.Parts[1].ETag) != aws.ToString(done[1].ETag) {
		t.Errorf("ListParts page 1: %d parts, truncated %v, next %q", len(lp.Parts), aws.ToBool(lp.IsTruncated), aws.ToString(lp.NextPartNumberMarker))
	}
	lp, err = cl.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: aws.String(id), PartNumberMarker: aws.String("2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
		t.Errorf("ListParts page 2: %+v", lp.Parts)
	}

	other, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String("mp/sub/other")})
	if err != nil {
		t.Fatal(err)
	}
	lu, err := cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake"), Prefix: aws.String("mp/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 2 || aws.ToString(lu.Uploads[0].Key) != key || aws.ToString(lu.Uploads[0].UploadId) != id {
		t.Errorf("ListMultipartUploads: %+v", lu.Uploads)
	}
	lu, err = cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake"), Prefix: aws.String("mp/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 1 || len(lu.CommonPrefixes) != 1 || aws.ToString(lu.CommonPrefixes[0].Prefix) != "mp/sub/" {
		t.Errorf("ListMultipartUploads with a delimiter: %+v, %+v", lu.Uploads, lu.CommonPrefixes)
	}
	lu, err = cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake"), MaxUploads: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 1 || !aws.ToBool(lu.IsTruncated) || aws.ToString(lu.NextKeyMarker) != key {
		t.Errorf("ListMultipartUploads page 1: %+v truncated %v next %q", lu.Uploads, aws.ToBool(lu.IsTruncated), aws.ToString(lu.NextKeyMarker))
	}
	lu, err = cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake"), KeyMarker: lu.NextKeyMarker, UploadIdMarker: lu.NextUploadIdMarker})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].Key) != "mp/sub/other" || aws.ToBool(lu.IsTruncated) {
		t.Errorf("ListMultipartUploads page 2: %+v", lu.Uploads)
	}

	comp, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(comp.Key) != key || aws.ToString(comp.Bucket) != "lake" || aws.ToString(comp.ETag) == "" || aws.ToString(comp.Location) == "" {
		t.Errorf("complete: %+v", comp)
	}
	got, err := e.file(t, "lake/"+key)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "assembled", got, whole)
	g, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "GET after complete", readAll(t, g.Body), whole)
	if keys := listKeys(t, cl, "mp/"); len(keys) != 1 || keys[0] != key {
		t.Errorf("listing after complete: %v", keys)
	}
	_, err = cl.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: aws.String(id)})
	if code := apiCode(err); code != "NoSuchUpload" {
		t.Errorf("ListParts of a completed upload: %v, want NoSuchUpload", err)
	}

	if _, err := cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String("mp/sub/other"), UploadId: other.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String("mp/sub/other"), UploadId: other.UploadId})
	if code := apiCode(err); code != "NoSuchUpload" {
		t.Errorf("second abort: %v, want NoSuchUpload", err)
	}
	lu, err = cl.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lake")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 0 {
		t.Errorf("uploads after complete and abort: %+v", lu.Uploads)
	}
}

// TestMultipartRefusals: the Writer's refusals of a completion come back
// as S3's codes, and leave no object.
func TestMultipartRefusals(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	const key = "r.bin"
	cr, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i := range 2 {
		out, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(randomBytes(uint64(i), 1000))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	complete := func(ps []types.CompletedPart, id *string) error {
		_, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key),
			UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	for _, c := range []struct {
		what  string
		parts []types.CompletedPart
		id    *string
		code  string
	}{
		{"a small first part", parts, cr.UploadId, "EntityTooSmall"},
		{"a wrong ETag", []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"0123"`)}}, cr.UploadId, "InvalidPart"},
		{"a missing part", []types.CompletedPart{{PartNumber: aws.Int32(7), ETag: parts[0].ETag}}, cr.UploadId, "InvalidPart"},
		{"descending parts", []types.CompletedPart{parts[1], parts[0]}, cr.UploadId, "InvalidPartOrder"},
		{"an unknown upload", parts[:1], aws.String("nope"), "NoSuchUpload"},
	} {
		if code := apiCode(complete(c.parts, c.id)); code != c.code {
			t.Errorf("%s: %s, want %s", c.what, code, c.code)
		}
	}
	if _, err := e.file(t, "lake/"+key); err == nil {
		t.Errorf("a refused completion left an object")
	}
	// The last part alone may be small.
	if err := complete(parts[:1], cr.UploadId); err != nil {
		t.Fatal(err)
	}
	_, err = cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: aws.String("nope"),
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))})
	if code := apiCode(err); code != "NoSuchUpload" {
		t.Errorf("UploadPart to an unknown upload: %v", err)
	}
}

// TestCompleteObjectChecksum: the x-amz-checksum-* header of a
// CompleteMultipartUpload is the object's checksum (here SHA256 of the
// parts' SHA256s, COMPOSITE, as minio-go and the AWS SDKs send it), not
// the XML body's: the completion is not refused as BadDigest.
func TestCompleteObjectChecksum(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	const key = "sum.bin"
	cr, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(9, 1000)
	sum := sha256.Sum256(data)
	part, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
	if err != nil {
		t.Fatal(err)
	}
	composite := sha256.Sum256(sum[:])
	_, err = cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String(key), UploadId: cr.UploadId,
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(composite[:])), ChecksumType: types.ChecksumTypeComposite,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag, ChecksumSHA256: part.ChecksumSHA256}}}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload with the object's SHA256: %v", err)
	}
	got, err := e.file(t, "lake/"+key)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, key, got, data)
}
