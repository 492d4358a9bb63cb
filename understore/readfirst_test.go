package understore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ringcache/ringcache/understore"
)

type firstReader interface {
	ReadFirst(ctx context.Context, path string, p []byte, off int64) (understore.ObjectInfo, int, error)
}

// testReadFirst: a ranged read of the current version names that version
// as Stat does (size, ETag, mtime, metadata fingerprint), including a range
// that runs past the end, one that starts past it, and an empty object.
func testReadFirst(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	fr, ok := st.(firstReader)
	if !ok {
		t.Fatalf("%s: no ReadFirst", b.name)
	}
	data := []byte("the quick brown fox jumps over the lazy dog")
	p := bucket + "/rf/obj"
	if _, err := st.Put(ctxT(t), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	empty := bucket + "/rf/empty"
	if _, err := st.Put(ctxT(t), empty, bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		off, len int64
		want     []byte
		eof      bool
	}{
		{p, 0, 9, data[:9], false},
		{p, 4, 5, data[4:9], false},
		{p, 40, 16, data[40:], true},
		{p, int64(len(data)), 8, nil, true},
		{p, 1000, 8, nil, true},
		{empty, 0, 8, nil, true},
	} {
		want, err := st.Stat(ctxT(t), tc.path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, tc.len)
		info, n, err := fr.ReadFirst(ctxT(t), tc.path, buf, tc.off)
		if tc.eof != errors.Is(err, io.EOF) || (err != nil && !errors.Is(err, io.EOF)) {
			t.Fatalf("%s at %d: err %v, want EOF %v", tc.path, tc.off, err, tc.eof)
		}
		if !bytes.Equal(buf[:n], tc.want) {
			t.Fatalf("%s at %d: read %q, want %q", tc.path, tc.off, buf[:n], tc.want)
		}
		if info.Size != want.Size || info.ETag != want.ETag || !info.ModTime.Equal(want.ModTime) || info.MetaFP != want.MetaFP {
			t.Fatalf("%s at %d: info %+v, Stat says %+v", tc.path, tc.off, info, want)
		}
	}
	if _, _, err := fr.ReadFirst(ctxT(t), bucket+"/rf/missing", make([]byte, 4), 0); !errors.Is(err, understore.ErrNotFound) {
		t.Fatalf("missing object: %v, want ErrNotFound", err)
	}
}
