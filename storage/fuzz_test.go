package storage

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ringcache/ringcache/storage/fb"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// sampleRecords are one record of each kind.
func sampleRecords() []record {
	id := FileIDOf("lake/t/a.parquet")
	return []record{
		{kind: fb.KindFile, file: id, version: 3, path: "lake/t/a.parquet", etag: "\"abc\"", size: 3 << 20,
			mtimeNs: time.Unix(1700000000, 5).UnixNano(), metaFP: "mode=644", scope: "lake/t", pinned: true, lastAccess: 42},
		{kind: fb.KindPagePut, file: id, version: 3, index: 2, length: 1 << 20, crc: 0xdeadbeef, gen: 9},
		{kind: fb.KindPageDrop, file: id, version: 3, index: 2, gen: 9},
		{kind: fb.KindForget, file: id},
		{kind: fb.KindSnapEnd, count: 4},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	b := newBuilder()
	for _, r := range sampleRecords() {
		fr := appendFrame(nil, b, &r)
		p, n, st := nextFrame(fr)
		if st != frameOK || n != len(fr) {
			t.Fatalf("%v: frame status %v", r.kind, st)
		}
		var got record
		if err := decodeRecord(p, &got); err != nil {
			t.Fatalf("%v: %v", r.kind, err)
		}
		if got != r {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

// FuzzDecodeRecord: the decoder never panics, and whatever it accepts
// re-encodes to a record that decodes to the same value.
func FuzzDecodeRecord(f *testing.F) {
	b := newBuilder()
	for _, r := range sampleRecords() {
		fr := appendFrame(nil, b, &r)
		f.Add(fr[frameHeaderSize:])
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var r record
		if err := decodeRecord(payload, &r); err != nil {
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("error does not wrap ErrBadRecord: %v", err)
			}
			return
		}
		fr := appendFrame(nil, newBuilder(), &r)
		var again record
		if err := decodeRecord(fr[frameHeaderSize:], &again); err != nil || again != r {
			t.Fatalf("accepted record does not round-trip: %+v -> %+v, %v", r, again, err)
		}
	})
}

// sampleSegment is a valid journal segment: a file, pages, a drop, a forget.
func sampleSegment() []byte {
	b := newBuilder()
	buf := []byte(segmentMagic)
	for _, r := range sampleRecords()[:4] {
		buf = appendFrame(buf, b, &r)
	}
	r := record{kind: fb.KindFile, file: FileIDOf("lake/t/b"), version: 1, path: "lake/t/b", size: 10}
	buf = appendFrame(buf, b, &r)
	r = record{kind: fb.KindPagePut, file: FileIDOf("lake/t/b"), version: 1, length: 10, gen: 11}
	return appendFrame(buf, b, &r)
}

// replayBytes replays data as the only journal segment of an empty store.
func replayBytes(t *testing.T, data []byte) (*Store, string, error) {
	dir := t.TempDir()
	name := segName(dir, 1)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// fsyncs are skipped: they do not change what replay decides and would
	// make the fuzzer's speed depend on other processes' disk traffic.
	cfg := Config{Dirs: []DirConfig{{Path: dir, Capacity: 1 << 30}}, JournalDir: dir, FS: noSyncFS{}}.withDefaults()
	s := newStore(cfg)
	_, _, err := s.replay()
	return s, name, err
}

// FuzzReplay: arbitrary journal bytes never panic replay; replay either
// reports a *CorruptionError (wrapping ErrBadRecord) or succeeds, and when
// it succeeds after cutting a tail, no valid record was in the part cut.
func FuzzReplay(f *testing.F) {
	seg := sampleSegment()
	f.Add(seg)
	f.Add(append(bytes.Clone(seg), make([]byte, 100)...))
	f.Add(seg[:len(seg)-3])
	mid := bytes.Clone(seg)
	mid[fileMagicSize+frameHeaderSize+5] ^= 1
	f.Add(mid)
	f.Add([]byte(segmentMagic[:5]))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, name, err := replayBytes(t, data)
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBadRecord) {
				t.Fatalf("replay error is not a CorruptionError: %v", err)
			}
			return
		}
		after, rerr := os.ReadFile(name)
		if errors.Is(rerr, os.ErrNotExist) {
			after = nil // removed as a segment torn at creation
		} else if rerr != nil {
			t.Fatal(rerr)
		}
		if !bytes.HasPrefix(data, after) {
			t.Fatalf("replay rewrote the segment instead of cutting it")
		}
		// Independent check of the cut: no offset in the cut part starts a
		// frame with a good CRC and a decodable record.
		cut := data[len(after):]
		var r record
		for i := range cut {
			if p, _, st := nextFrame(cut[i:]); st == frameOK && decodeRecord(p, &r) == nil {
				t.Fatalf("valid record at offset %d silently cut", len(after)+i)
			}
		}
		// Whatever was accepted is a consistent index.
		for id, fi := range s.files {
			fe := s.ftab[fi]
			if fe.meta.ID != id || FileIDOf(fe.meta.Path) != id {
				t.Fatalf("index file entry inconsistent: %+v", fe.meta)
			}
			for idx, v := range fe.pages {
				if v != 0 && (s.recs[v-1].index != uint32(idx) || s.recs[v-1].file != fi) {
					t.Fatalf("page slot inconsistent")
				}
			}
		}
		// Replaying the cut segment again accepts all of it.
		if after != nil {
			if _, _, err := replayBytes(t, after); err != nil {
				t.Fatalf("replay of the accepted prefix fails: %v", err)
			}
		}
	})
}

// TestGenerateFuzzCorpus writes the seed corpus files (go test -run
// GenerateFuzzCorpus -gencorpus); without the flag it checks they exist.
func TestGenerateFuzzCorpus(t *testing.T) {
	b := newBuilder()
	corpora := map[string][][]byte{}
	for _, r := range sampleRecords() {
		fr := appendFrame(nil, b, &r)
		corpora["FuzzDecodeRecord"] = append(corpora["FuzzDecodeRecord"], fr[frameHeaderSize:])
	}
	corpora["FuzzDecodeRecord"] = append(corpora["FuzzDecodeRecord"], []byte{12, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0})
	seg := sampleSegment()
	torn := append(bytes.Clone(seg), seg[fileMagicSize:fileMagicSize+20]...)
	zeros := append(bytes.Clone(seg), make([]byte, 512)...)
	mid := bytes.Clone(seg)
	mid[fileMagicSize+frameHeaderSize+5] ^= 1
	corpora["FuzzReplay"] = [][]byte{seg, torn, zeros, mid, []byte(segmentMagic), []byte("RCJ"), make([]byte, 8)}
	for name, seeds := range corpora {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, seed := range seeds {
			file := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(seed)) + ")\n"
			if *genCorpus {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("seed corpus missing (run with -gencorpus): %v", err)
			}
		}
	}
}

// noSyncFS is the OS filesystem with fsync turned into a no-op (fuzzing only).
type noSyncFS struct{ OSFS }

func (noSyncFS) SyncDir(string) error { return nil }

func (f noSyncFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{file}, nil
}

type noSyncFile struct{ File }

func (noSyncFile) Sync() error { return nil }
