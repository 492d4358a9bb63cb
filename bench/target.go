package bench

import (
	"context"
	"io"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/understore"
)

// ReadStats says where a read's bytes came from (client.ReadStats' fields
// the bench reports).
type ReadStats struct {
	BytesLocal, BytesPeer, BytesUnderstore, BytesDirect int64
	PagesHit, PagesMissed                               int64
}

func (s *ReadStats) add(o ReadStats) {
	s.BytesLocal += o.BytesLocal
	s.BytesPeer += o.BytesPeer
	s.BytesUnderstore += o.BytesUnderstore
	s.BytesDirect += o.BytesDirect
	s.PagesHit += o.PagesHit
	s.PagesMissed += o.PagesMissed
}

// Target is what a run reads from.
type Target interface {
	// Kind is "cache" or "understore" (the no-cache baseline).
	Kind() string
	// ReadAt reads len(p) bytes at off of path, like io.ReaderAt.
	ReadAt(ctx context.Context, path string, p []byte, off int64) (int, ReadStats, error)
}

// Writer is where writes go: the under-store (understore.Store satisfies it).
type Writer interface {
	Put(ctx context.Context, path string, r io.Reader, size int64) (understore.ObjectInfo, error)
}

// ClusterTarget reads through the cluster with the Go SDK.
func ClusterTarget(c *client.Client) Target { return clusterTarget{c} }

type clusterTarget struct{ c *client.Client }

func (clusterTarget) Kind() string { return "cache" }

func (t clusterTarget) ReadAt(ctx context.Context, path string, p []byte, off int64) (int, ReadStats, error) {
	var st client.ReadStats
	n, err := t.c.ReadAt(ctx, path, p, off, client.WithStats(&st))
	return n, ReadStats{BytesLocal: st.BytesLocal, BytesPeer: st.BytesPeer, BytesUnderstore: st.BytesUnderstore,
		BytesDirect: st.BytesDirect, PagesHit: st.PagesHit, PagesMissed: st.PagesMissed}, err
}

// StoreTarget reads straight from the under-store: the no-cache baseline,
// one ranged request per read, as a reader without a cache does.
func StoreTarget(s understore.Store) Target { return storeTarget{s} }

type storeTarget struct{ s understore.Store }

func (storeTarget) Kind() string { return "understore" }

func (t storeTarget) ReadAt(ctx context.Context, path string, p []byte, off int64) (int, ReadStats, error) {
	n, err := t.s.ReadAt(ctx, path, understore.ObjectInfo{}, p, off)
	return n, ReadStats{BytesUnderstore: int64(n)}, err
}

// DelayStore adds a fixed delay before every request to s, so a local
// directory or a loopback S3 server behaves like a remote object store
// (--understore-latency). A cancelled context ends the wait early. The
// result keeps s's multipart uploads and copies (understore.Multiparter,
// understore.Copier), delayed alike, when s has them.
func DelayStore(s understore.Store, d time.Duration) understore.Store {
	if d <= 0 {
		return s
	}
	return (&delayStore{Store: s, d: d}).withWrites()
}

type delayStore struct {
	understore.Store
	d time.Duration
}

func (s *delayStore) wait(ctx context.Context) error {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *delayStore) Stat(ctx context.Context, path string) (understore.ObjectInfo, error) {
	if err := s.wait(ctx); err != nil {
		return understore.ObjectInfo{}, err
	}
	return s.Store.Stat(ctx, path)
}

func (s *delayStore) ReadAt(ctx context.Context, path string, want understore.ObjectInfo, p []byte, off int64) (int, error) {
	if err := s.wait(ctx); err != nil {
		return 0, err
	}
	return s.Store.ReadAt(ctx, path, want, p, off)
}

// ReadFirst is one request like the under-store's own (a ranged read that
// names the version): the node learns a cold read's metadata from it, so
// the delay is paid once, as from a real object store.
func (s *delayStore) ReadFirst(ctx context.Context, path string, p []byte, off int64) (understore.ObjectInfo, int, error) {
	fr, ok := s.Store.(interface {
		ReadFirst(ctx context.Context, path string, p []byte, off int64) (understore.ObjectInfo, int, error)
	})
	if !ok { // a Stat, then the read of that version
		info, err := s.Stat(ctx, path)
		if err != nil {
			return info, 0, err
		}
		n, err := s.ReadAt(ctx, path, info, p, off)
		return info, n, err
	}
	if err := s.wait(ctx); err != nil {
		return understore.ObjectInfo{}, 0, err
	}
	return fr.ReadFirst(ctx, path, p, off)
}

func (s *delayStore) List(ctx context.Context, prefix, delimiter, token string, limit int) (understore.ListPage, error) {
	if err := s.wait(ctx); err != nil {
		return understore.ListPage{}, err
	}
	return s.Store.List(ctx, prefix, delimiter, token, limit)
}

func (s *delayStore) Put(ctx context.Context, path string, r io.Reader, size int64) (understore.ObjectInfo, error) {
	if err := s.wait(ctx); err != nil {
		return understore.ObjectInfo{}, err
	}
	return s.Store.Put(ctx, path, r, size)
}

func (s *delayStore) Delete(ctx context.Context, path string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.Delete(ctx, path)
}

func (s *delayStore) Buckets(ctx context.Context) ([]string, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.Store.Buckets(ctx)
}
