package understore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/understore"
)

func openLocalDir(t *testing.T, dir string) understore.Store {
	t.Helper()
	st, err := understore.Open(ctxT(t), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestLocalUploadSurvivesRestart: a Store opened later on the same
// directory (another process, or this one restarted) lists the upload and
// its parts, adds one and completes it.
func TestLocalUploadSurvivesRestart(t *testing.T) {
	r := testseed.Rand(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	p := "b/k/obj"
	first := openLocalDir(t, dir)
	id, err := first.(understore.Multiparter).CreateUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	d1 := randBytes(r, understore.MinPartSize)
	p1 := uploadPart(t, first.(understore.Multiparter), p, id, 1, d1)
	first.Close()

	second := openLocalDir(t, dir)
	m := second.(understore.Multiparter)
	ups, err := m.ListUploads(ctx, "b/", "", "", "", 0)
	if err != nil || len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != id || ups.Uploads[0].Path != p {
		t.Fatalf("ListUploads after restart = %+v, %v", ups, err)
	}
	pg, err := m.ListParts(ctx, p, id, 0, 0)
	if err != nil || len(pg.Parts) != 1 || pg.Parts[0].ETag != p1.ETag {
		t.Fatalf("ListParts after restart = %+v, %v", pg, err)
	}
	p2 := uploadPart(t, m, p, id, 2, []byte("tail"))
	info, err := m.CompleteUpload(ctx, p, id, []understore.CompletedPart{{1, `"` + p1.ETag + `"`}, {2, p2.ETag}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, second, info), slices.Concat(d1, []byte("tail"))) {
		t.Fatal("wrong bytes")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, understore.UploadsDir)); len(ents) != 0 {
		t.Errorf("staging directory not empty after Complete: %v", ents)
	}
}

// TestLocalCompleteFailsHalfway: an assembly cut off after its first part
// (the ctx is cancelled there) leaves the old object, no visible temporary
// file, and the upload, which then completes.
func TestLocalCompleteFailsHalfway(t *testing.T) {
	r := testseed.Rand(t)
	b := localBackend()
	bucket := b.newBucket(t)
	st := b.open(t, "")
	m := st.(understore.Multiparter)
	p := bucket + "/obj"
	old := put(t, st, p, []byte("old"))
	ctx := ctxT(t)
	id, err := m.CreateUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	d := [][]byte{randBytes(r, understore.MinPartSize), randBytes(r, understore.MinPartSize), randBytes(r, 10)}
	var parts []understore.CompletedPart
	for i, data := range d {
		pi := uploadPart(t, m, p, id, i+1, data)
		parts = append(parts, understore.CompletedPart{Number: pi.Number, ETag: pi.ETag})
	}
	cctx, cancel := context.WithCancel(ctx)
	understore.AfterPart(st, func(num int) {
		if num == 1 {
			cancel()
		}
	})
	if _, err := m.CompleteUpload(cctx, p, id, parts); !errors.Is(err, context.Canceled) {
		t.Fatalf("CompleteUpload cancelled halfway = %v", err)
	}
	understore.AfterPart(st, nil)
	if cur, err := st.Stat(ctx, p); err != nil || cur.ETag != old.ETag {
		t.Fatalf("object after a failed Complete = %+v, %v", cur, err)
	}
	objs, _, _ := listAll(t, st, bucket+"/", "", 0)
	if !slices.Equal(objs, []string{p}) {
		t.Errorf("List after a failed Complete = %q", objs)
	}
	info, err := m.CompleteUpload(ctx, p, id, parts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, st, info), slices.Concat(d...)) {
		t.Fatal("wrong bytes")
	}
}

// TestLocalDamagedPart: a staged part cut short behind the store's back
// (header says more than the file holds) is InvalidPart, and the object
// stays as it was.
func TestLocalDamagedPart(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	st := openLocalDir(t, dir)
	m := st.(understore.Multiparter)
	ctx := ctxT(t)
	p := "b/obj"
	old := put(t, st, p, []byte("old"))
	id, err := m.CreateUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	pi := uploadPart(t, m, p, id, 1, bytes.Repeat([]byte("x"), 1000))
	part := filepath.Join(dir, understore.UploadsDir, id, "part-00001")
	if err := os.Truncate(part, 500); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CompleteUpload(ctx, p, id, []understore.CompletedPart{{1, pi.ETag}}); !errors.Is(err, understore.ErrInvalidPart) {
		t.Fatalf("Complete with a damaged part = %v, want ErrInvalidPart", err)
	}
	if cur, err := st.Stat(ctx, p); err != nil || cur.ETag != old.ETag {
		t.Fatalf("object = %+v, %v", cur, err)
	}
	if pg, err := m.ListParts(ctx, p, id, 0, 0); err != nil || len(pg.Parts) != 0 {
		t.Errorf("ListParts lists a damaged part: %+v, %v", pg, err)
	}
	// The hidden staging directory is not a bucket, not listable, not
	// writable through the Store.
	if bs, err := st.Buckets(ctx); err != nil || !slices.Equal(bs, []string{"b"}) {
		t.Errorf("Buckets = %q, %v", bs, err)
	}
	if _, err := st.Put(ctx, understore.UploadsDir+"/x", bytes.NewReader(nil), 0); !errors.Is(err, understore.ErrBadPath) {
		t.Errorf("Put into the staging directory = %v", err)
	}
	if _, err := m.CreateUpload(ctx, "b/"+understore.UploadsDir); !errors.Is(err, understore.ErrBadPath) {
		t.Errorf("CreateUpload of a reserved name = %v", err)
	}
}
