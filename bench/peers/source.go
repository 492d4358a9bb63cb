package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ringcache/ringcache/bench"
)

// source is the slow origin every system reads through: object i of a row
// is size bytes of bench.Fill's stream for (seed, i), and fetching it costs
// delay, as a remote object store would. groupcache's Getter and olric's
// cache-aside miss path call it; ringcache reaches the same bytes in
// versitygw behind the latency proxy (see ringcache.go).
type source struct {
	seed  uint64
	size  int
	delay time.Duration
}

// keyName is the cache key (and, for ringcache, the object name) of object i.
func keyName(i int) string { return fmt.Sprintf("obj-%05d", i) }

// keyIndex parses keyName's output.
func keyIndex(k string) (int, error) {
	i, err := strconv.Atoi(strings.TrimPrefix(k, "obj-"))
	if err != nil || !strings.HasPrefix(k, "obj-") || i < 0 {
		return 0, fmt.Errorf("bad key %q", k)
	}
	return i, nil
}

// contentKey names object i's byte stream.
func (s source) contentKey(i int) uint64 { return bench.ContentKey(s.seed, i, 0) }

// bytes returns object i's content without the delay (uploads, checks).
func (s source) bytes(i int) []byte {
	p := make([]byte, s.size)
	bench.Fill(p, s.contentKey(i), 0)
	return p
}

// fetch is one slow read of object key from the origin.
func (s source) fetch(ctx context.Context, key string) ([]byte, error) {
	i, err := keyIndex(key)
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return s.bytes(i), nil
}

// wrongBytes counts the bytes of p that are not object i's content, a short
// or long answer counting its missing or extra bytes.
func (s source) wrongBytes(i int, p []byte) int64 {
	bad := int64(0)
	if len(p) != s.size {
		bad = int64(len(p) - s.size)
		if bad < 0 {
			bad = -bad
		}
		p = p[:min(len(p), s.size)]
	}
	return bad + bench.Mismatch(p, s.contentKey(i), 0)
}
