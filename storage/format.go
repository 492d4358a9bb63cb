package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"time"
	"unicode/utf8"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/ringcache/ringcache/storage/fb"
)

// On-disk format constants. They are part of the format: changing any of
// them makes existing journals and page files unreadable.
const (
	// frameHeaderSize is the size of a journal frame header: a little-endian
	// uint32 payload length followed by the little-endian CRC32C of the
	// payload.
	frameHeaderSize = 8
	// MaxRecordSize bounds a frame's payload; a larger length is corruption.
	MaxRecordSize = 1 << 20
	// minRecordSize is the smallest payload a FlatBuffers Record can have
	// (root offset + vtable + table); shorter payloads are corruption.
	minRecordSize = 12

	// segmentMagic starts every journal segment file; snapshotMagic every
	// snapshot file.
	segmentMagic  = "RCJSEG01"
	snapshotMagic = "RCJSNP01"
	fileMagicSize = 8

	// ChunkSize is the unit of the per-chunk CRC32C of the page data that
	// this version writes (format 2). A reader verifies whole chunks, so the
	// chunk bounds what a small unaligned read moves beyond its range: with
	// 64 KiB chunks (format 1) a random 64 KiB read moved 128 KiB.
	ChunkSize = 16 << 10
	// legacyChunkSize is the chunk of format-1 page files, still read.
	legacyChunkSize = 64 << 10
	// DataOffset is where page data starts in a page file; the header before
	// it holds the chunk CRCs so they can be read without touching the data,
	// and the data stays 4 KiB aligned for sendfile and the page cache.
	DataOffset = 4096
	// pageMagic starts every page file header.
	pageMagic = "RCPG"
	// pageFormatVersion is the page header's layout version written (2:
	// 16 KiB chunks). Format 1 (64 KiB chunks, same layout) is still read.
	pageFormatVersion = 2
	// pageHeaderFixed is the size of the fixed part of the page header that
	// precedes the chunk CRC array.
	pageHeaderFixed = 64
	// maxChunks is how many chunk CRCs fit in the header.
	maxChunks = (DataOffset - pageHeaderFixed) / 4
	// MaxPageSize is the largest supported page size (maxChunks full
	// chunks, rounded down to a power of two).
	MaxPageSize = 8 << 20 // (format 1 allowed 32 MiB with 64 KiB chunks)
	// MinPageSize is the smallest supported page size.
	MinPageSize = 4096
)

// castagnoli is the CRC32C table used for frames, page chunks and headers.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

func crc32cUpdate(c uint32, p []byte) uint32 { return crc32.Update(c, castagnoli, p) }

func hexDecode(dst []byte, s string) (int, error) { return hex.Decode(dst, []byte(s)) }

// FileID is the 128-bit identity of a file: the first 16 bytes of the
// SHA-256 of its path.
type FileID [16]byte

// FileIDOf returns the FileID of a path.
func FileIDOf(path string) FileID {
	sum := sha256.Sum256([]byte(path))
	var id FileID
	copy(id[:], sum[:16])
	return id
}

// String returns the ID in hex.
func (id FileID) String() string { return hex.EncodeToString(id[:]) }

func (id FileID) lohi() (uint64, uint64) {
	return binary.LittleEndian.Uint64(id[:8]), binary.LittleEndian.Uint64(id[8:])
}

func fileIDFrom(lo, hi uint64) FileID {
	var id FileID
	binary.LittleEndian.PutUint64(id[:8], lo)
	binary.LittleEndian.PutUint64(id[8:], hi)
	return id
}

// PageKey identifies one page of one version of a file.
type PageKey struct {
	File    FileID
	Version uint64
	Index   uint32
}

func (k PageKey) String() string {
	return fmt.Sprintf("%s/v%d/p%d", k.File, k.Version, k.Index)
}

// hash mixes a key into 64 bits for the eviction policy's ghost set.
func (k PageKey) hash() uint64 {
	lo, hi := k.File.lohi()
	h := lo ^ (hi * 0x9e3779b97f4a7c15) ^ (k.Version * 0xc2b2ae3d27d4eb4f) ^ (uint64(k.Index) * 0x165667b19e3779f9)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// record is the decoded form of one journal record.
type record struct {
	kind       fb.Kind
	file       FileID
	version    uint64
	index      uint32
	length     uint32
	crc        uint32
	gen        uint64
	path       string
	etag       string
	size       int64
	mtimeNs    int64
	metaFP     string
	scope      string
	pinned     bool
	lastAccess int64
	count      uint64
}

// appendFrame encodes r as a FlatBuffers Record and appends the framed bytes
// (length, CRC32C, payload) to dst. b is a scratch builder.
func appendFrame(dst []byte, b *flatbuffers.Builder, r *record) []byte {
	b.Reset()
	var path, etag, metaFP, scope flatbuffers.UOffsetT
	if r.kind == fb.KindFile {
		path = b.CreateString(r.path)
		etag = b.CreateString(r.etag)
		metaFP = b.CreateString(r.metaFP)
		scope = b.CreateString(r.scope)
	}
	fb.RecordStart(b)
	fb.RecordAddKind(b, r.kind)
	lo, hi := r.file.lohi()
	fb.RecordAddFile(b, fb.CreateID128(b, lo, hi))
	fb.RecordAddVersion(b, r.version)
	fb.RecordAddIndex(b, r.index)
	fb.RecordAddLength(b, r.length)
	fb.RecordAddCrc(b, r.crc)
	fb.RecordAddGen(b, r.gen)
	if r.kind == fb.KindFile {
		fb.RecordAddPath(b, path)
		fb.RecordAddEtag(b, etag)
		fb.RecordAddSize(b, r.size)
		fb.RecordAddMtimeNs(b, r.mtimeNs)
		fb.RecordAddMetaFp(b, metaFP)
		fb.RecordAddScope(b, scope)
		fb.RecordAddPinned(b, r.pinned)
		fb.RecordAddLastAccessNs(b, r.lastAccess)
	}
	fb.RecordAddCount(b, r.count)
	b.Finish(fb.RecordEnd(b))
	payload := b.FinishedBytes()
	var hdr [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32c(payload))
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// frameStatus classifies the bytes at the start of a buffer.
type frameStatus int

const (
	frameOK        frameStatus = iota
	frameShort                 // fewer bytes than the header or payload claims
	frameBadLength             // length zero, too small or too large
	frameBadCRC                // CRC mismatch
)

// nextFrame looks at the frame at the start of buf and returns its payload
// and total size.
func nextFrame(buf []byte) (payload []byte, size int, st frameStatus) {
	if len(buf) < frameHeaderSize {
		return nil, 0, frameShort
	}
	n := binary.LittleEndian.Uint32(buf)
	if n < minRecordSize || n > MaxRecordSize {
		return nil, 0, frameBadLength
	}
	if uint64(len(buf)-frameHeaderSize) < uint64(n) {
		return nil, 0, frameShort
	}
	payload = buf[frameHeaderSize : frameHeaderSize+int(n)]
	if crc32c(payload) != binary.LittleEndian.Uint32(buf[4:]) {
		return nil, 0, frameBadCRC
	}
	return payload, frameHeaderSize + int(n), frameOK
}

// decodeRecord decodes one FlatBuffers Record payload into r. Malformed
// input (offsets out of range, unknown kind, invalid strings) returns an
// error wrapping ErrBadRecord; it never panics.
func decodeRecord(payload []byte, r *record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: malformed flatbuffer: %v", ErrBadRecord, p)
		}
	}()
	if len(payload) < minRecordSize || len(payload) > MaxRecordSize {
		return fmt.Errorf("%w: payload of %d bytes", ErrBadRecord, len(payload))
	}
	if err := checkTable(payload); err != nil {
		return err
	}
	var t fb.Record
	t.Init(payload, flatbuffers.GetUOffsetT(payload))
	*r = record{kind: t.Kind()}
	var id fb.ID128
	if t.File(&id) != nil {
		r.file = fileIDFrom(id.Lo(), id.Hi())
	}
	r.version = t.Version()
	r.index = t.Index()
	r.length = t.Length()
	r.crc = t.Crc()
	r.gen = t.Gen()
	r.count = t.Count()
	switch r.kind {
	case fb.KindFile:
		var ok bool
		if r.path, ok = str(t.Path()); !ok {
			return fmt.Errorf("%w: path is not UTF-8", ErrBadRecord)
		}
		if r.etag, ok = str(t.Etag()); !ok {
			return fmt.Errorf("%w: etag is not UTF-8", ErrBadRecord)
		}
		if r.metaFP, ok = str(t.MetaFp()); !ok {
			return fmt.Errorf("%w: meta fingerprint is not UTF-8", ErrBadRecord)
		}
		if r.scope, ok = str(t.Scope()); !ok {
			return fmt.Errorf("%w: scope is not UTF-8", ErrBadRecord)
		}
		r.size = t.Size()
		r.mtimeNs = t.MtimeNs()
		r.pinned = t.Pinned()
		r.lastAccess = t.LastAccessNs()
		if r.path == "" || r.size < 0 || r.version == 0 || FileIDOf(r.path) != r.file {
			return fmt.Errorf("%w: inconsistent file record", ErrBadRecord)
		}
	case fb.KindForget, fb.KindSnapEnd:
	case fb.KindPagePut:
		if r.length == 0 || r.length > MaxPageSize || r.version == 0 || r.gen == 0 {
			return fmt.Errorf("%w: inconsistent page record", ErrBadRecord)
		}
	case fb.KindPageDrop:
		if r.version == 0 || r.gen == 0 {
			return fmt.Errorf("%w: inconsistent page drop record", ErrBadRecord)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrBadRecord, r.kind)
	}
	return nil
}

// checkTable validates the root offset and vtable bounds of a FlatBuffers
// table so that field accessors stay inside the buffer (strings are checked
// by the runtime's slicing, which panics and is recovered).
func checkTable(buf []byte) error {
	n := len(buf)
	root := int(binary.LittleEndian.Uint32(buf))
	if root < 4 || root > n-4 {
		return fmt.Errorf("%w: root offset %d out of range", ErrBadRecord, root)
	}
	vt := int64(root) - int64(int32(binary.LittleEndian.Uint32(buf[root:])))
	if vt < 0 || vt > int64(n-4) {
		return fmt.Errorf("%w: vtable offset out of range", ErrBadRecord)
	}
	vtSize := int(binary.LittleEndian.Uint16(buf[vt:]))
	objSize := int(binary.LittleEndian.Uint16(buf[vt+2:]))
	if vtSize < 4 || vtSize&1 != 0 || int(vt)+vtSize > n || objSize < 4 || root+objSize > n {
		return fmt.Errorf("%w: vtable out of range", ErrBadRecord)
	}
	for i := 4; i < vtSize; i += 2 {
		off := int(binary.LittleEndian.Uint16(buf[int(vt)+i:]))
		// Each field is at most 16 bytes (the ID128 struct).
		if off != 0 && (off < 4 || off+1 > objSize || root+off+16 > n+16) {
			return fmt.Errorf("%w: field offset out of range", ErrBadRecord)
		}
	}
	return nil
}

func str(b []byte) (string, bool) {
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

func nsToTime(ns int64) time.Time {
	if ns == 0 || ns == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func timeToNs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func newBuilder() *flatbuffers.Builder { return flatbuffers.NewBuilder(256) }
