package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/ringcache/ringcache/internal/chunkcrc"
	"github.com/ringcache/ringcache/objpath"
)

// Wire constants; see the package doc. They are part of the format.
const (
	// StreamMagic starts every page-stream connection.
	StreamMagic = "RCPS"
	// StreamVersion is the version byte after the magic.
	StreamVersion = 1
	// PrefaceSize is the size of the connection preface.
	PrefaceSize = 8
	// FrameHeaderSize is the size of every frame header.
	FrameHeaderSize = 8

	// MaxFrameBody bounds every frame body except a segment's.
	MaxFrameBody = 64 << 10
	// MaxPathLength bounds a request's path (and its scope and ETag): the
	// path rules' limit, objpath.MaxLen.
	MaxPathLength = objpath.MaxLen
	// MaxSegmentLength bounds the data of one segment.
	MaxSegmentLength = 64 << 20
	// MinChunkSize is the smallest chunk size a segment may use; with
	// MaxSegmentLength it bounds the CRC list of a segment to 64Ki entries.
	MinChunkSize = 1 << 10
	// DefaultChunkSize is the chunk size WriteSegment uses for segments
	// from memory. It is not the storage chunk (storage.ChunkSize, 16 KiB,
	// or 64 KiB in format-1 page files): segments of cached pages carry
	// their page file's own chunk size and CRCs (WriteFileSegment,
	// WriteMappedSegment).
	DefaultChunkSize = 64 << 10

	maxSegmentBody = segmentFixed + 4*(MaxSegmentLength/MinChunkSize)
)

// Frame types.
const (
	frameRequest = 1
	frameHeader  = 2
	frameSegment = 3
	frameTrailer = 4
)

// Fixed body sizes.
const (
	requestFixed = 50
	headerFixed  = 38
	segmentFixed = 16
	trailerFixed = 46
)

// Request flags.
const (
	// FlagNoForward: the request was already forwarded once; serve it here.
	FlagNoForward uint32 = 1 << 0
	// FlagNoCache: serve the bytes without caching them.
	FlagNoCache uint32 = 1 << 1
	// FlagVerify: verify every cached chunk on the server before sending
	// it (a reader's retry after it saw a corrupt chunk); bad pages are
	// dropped and fetched again.
	FlagVerify uint32 = 1 << 2
	// FlagCachedOnly: serve only from pages cached on this node, of exactly
	// the version ETag names; never touch the under-store (a new owner
	// asking the previous owner during warm handoff).
	FlagCachedOnly uint32 = 1 << 3
	// FlagPiece: the request is a later piece of a read the client split
	// over several streams (see ReadRequest.ReadID). A page it starts
	// inside of is counted (stats, hit/miss metrics) by the piece before,
	// so the pieces' page counts add up to those of the read in one request.
	FlagPiece uint32 = 1 << 4
	// FlagModTime: the reader wants ReadHeader.ModTime (the S3 gateway's
	// Last-Modified). The header frame then ends with 8 more bytes, the
	// Unix time in nanoseconds; a reader that does not set the flag (every
	// older one) gets the header it knows.
	FlagModTime uint32 = 1 << 5

	// flagReadID is on the wire only: the request body ends with the
	// 8-byte ReadRequest.ReadID. ReadRequest.Flags never holds it.
	flagReadID uint32 = 1 << 31
)

// CRC32C returns the CRC-32C (Castagnoli) of p, the checksum of a chunk.
func CRC32C(p []byte) uint32 { return chunkcrc.Sum(p) }

// ChunkCRCs returns the CRC32C of every chunkSize chunk of p (the last may
// be short), appended to dst.
func ChunkCRCs(dst []uint32, p []byte, chunkSize int) []uint32 {
	return chunkcrc.AppendSums(dst, p, chunkSize)
}

func numChunks(length int64, chunkSize int) int {
	return int((length + int64(chunkSize) - 1) / int64(chunkSize))
}

// ReadRequest asks for Length bytes at Offset of the object at Path.
type ReadRequest struct {
	Path   string
	Offset int64
	Length int64
	// RingVersion is the caller's ring version; 0 = unknown.
	RingVersion uint64
	// Scope is the cache context (seed 001); "" = the path's directory.
	Scope string
	// Flags: FlagNoForward, FlagNoCache, FlagVerify, FlagCachedOnly, FlagPiece.
	Flags uint32
	// ETag, when set, is the only version of the object the reader accepts
	// (if-match): another version is StatusChanged, never mixed bytes.
	ETag string
	// ReadID, when not 0, names the read this request is a piece of: the
	// client split one read over several streams and every piece carries
	// the same ID, so a page one piece fetched counts for the read as a
	// fetch (not as a hit) when another piece shares it.
	ReadID uint64
}

// ReadHeader starts a response.
type ReadHeader struct {
	Status      Status
	Error       string
	RingVersion uint64 // the ring version the serving node used
	Size        int64  // object size
	ETag        string
	Version     uint64 // cached version of the object
	// ModTime is the object's modification time at the under-store; sent
	// only to readers that set FlagModTime (zero otherwise).
	ModTime time.Time
}

// ReadStats are the per-call statistics of the trailer.
type ReadStats struct {
	BytesLocal      int64
	BytesPeer       int64
	BytesUnderstore int64
	PagesHit        int64
	PagesMissed     int64
	Node            string // id of the node that served the read
}

type frameHdr struct {
	typ byte
	n   uint32
}

func putFrameHeader(b []byte, typ byte, n int) {
	b[0] = typ
	b[1], b[2], b[3] = 0, 0, 0
	binary.BigEndian.PutUint32(b[4:], uint32(n))
}

func parseFrameHeader(b []byte) (frameHdr, error) {
	h := frameHdr{typ: b[0], n: binary.BigEndian.Uint32(b[4:])}
	if b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return h, fmt.Errorf("%w: nonzero flags in frame header", ErrProtocol)
	}
	limit := uint32(MaxFrameBody)
	if h.typ == frameSegment {
		limit = maxSegmentBody
	}
	if h.typ < frameRequest || h.typ > frameTrailer {
		return h, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, h.typ)
	}
	if h.n > limit {
		return h, fmt.Errorf("%w: frame body of %d bytes over the limit of %d", ErrProtocol, h.n, limit)
	}
	return h, nil
}

func appendPreface(b []byte) []byte {
	return append(b, StreamMagic[0], StreamMagic[1], StreamMagic[2], StreamMagic[3], StreamVersion, 0, 0, 0)
}

func checkPreface(b []byte) error {
	if string(b[:4]) != StreamMagic {
		return fmt.Errorf("%w: bad magic %q", ErrProtocol, b[:4])
	}
	if b[4] != StreamVersion || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return fmt.Errorf("%w: unsupported stream version %d", ErrProtocol, b[4])
	}
	return nil
}

// appendRequest appends a request frame (header and body).
func appendRequest(b []byte, id uint64, r *ReadRequest, timeoutMicros uint64) []byte {
	n := requestFixed + len(r.Path) + len(r.Scope) + len(r.ETag)
	flags := r.Flags &^ flagReadID
	if r.ReadID != 0 {
		flags |= flagReadID
		n += 8
	}
	b = append(b, make([]byte, FrameHeaderSize+requestFixed)...)
	f := b[len(b)-FrameHeaderSize-requestFixed:]
	putFrameHeader(f, frameRequest, n)
	p := f[FrameHeaderSize:]
	binary.BigEndian.PutUint64(p[0:], id)
	binary.BigEndian.PutUint64(p[8:], uint64(r.Offset))
	binary.BigEndian.PutUint64(p[16:], uint64(r.Length))
	binary.BigEndian.PutUint64(p[24:], r.RingVersion)
	binary.BigEndian.PutUint64(p[32:], timeoutMicros)
	binary.BigEndian.PutUint32(p[40:], flags)
	binary.BigEndian.PutUint16(p[44:], uint16(len(r.Path)))
	binary.BigEndian.PutUint16(p[46:], uint16(len(r.Scope)))
	binary.BigEndian.PutUint16(p[48:], uint16(len(r.ETag)))
	b = append(b, r.Path...)
	b = append(b, r.Scope...)
	b = append(b, r.ETag...)
	if r.ReadID != 0 {
		b = binary.BigEndian.AppendUint64(b, r.ReadID)
	}
	return b
}

// parseRequest decodes a request body. Field values (negative offsets, ...)
// are checked by the server, which answers with StatusBadRequest.
func parseRequest(p []byte) (id uint64, r ReadRequest, timeoutMicros uint64, err error) {
	if len(p) < requestFixed {
		return 0, r, 0, fmt.Errorf("%w: short request frame", ErrProtocol)
	}
	id = binary.BigEndian.Uint64(p[0:])
	r.Offset = int64(binary.BigEndian.Uint64(p[8:]))
	r.Length = int64(binary.BigEndian.Uint64(p[16:]))
	r.RingVersion = binary.BigEndian.Uint64(p[24:])
	timeoutMicros = binary.BigEndian.Uint64(p[32:])
	r.Flags = binary.BigEndian.Uint32(p[40:])
	pl := int(binary.BigEndian.Uint16(p[44:]))
	sl := int(binary.BigEndian.Uint16(p[46:]))
	el := int(binary.BigEndian.Uint16(p[48:]))
	if r.Flags&flagReadID != 0 {
		r.Flags &^= flagReadID
		if len(p) < requestFixed+8 {
			return 0, r, 0, fmt.Errorf("%w: short request frame", ErrProtocol)
		}
		r.ReadID = binary.BigEndian.Uint64(p[len(p)-8:])
		p = p[:len(p)-8]
		if r.ReadID == 0 {
			return 0, r, 0, fmt.Errorf("%w: read ID 0 on the wire", ErrProtocol)
		}
	}
	if requestFixed+pl+sl+el != len(p) {
		return 0, r, 0, fmt.Errorf("%w: request frame lengths do not add up", ErrProtocol)
	}
	r.Path = string(p[requestFixed : requestFixed+pl])
	r.Scope = string(p[requestFixed+pl : requestFixed+pl+sl])
	r.ETag = string(p[requestFixed+pl+sl:])
	return id, r, timeoutMicros, nil
}

// withModTime adds the 8-byte ModTime suffix (FlagModTime).
func appendHeader(b []byte, id uint64, h *ReadHeader, withModTime bool) []byte {
	etag, msg := clip(h.ETag), clip(h.Error)
	n := headerFixed + len(etag) + len(msg)
	if withModTime {
		n += 8
	}
	start := len(b)
	b = append(b, make([]byte, FrameHeaderSize+headerFixed)...)
	putFrameHeader(b[start:], frameHeader, n)
	p := b[start+FrameHeaderSize:]
	binary.BigEndian.PutUint64(p[0:], id)
	binary.BigEndian.PutUint16(p[8:], uint16(h.Status))
	binary.BigEndian.PutUint64(p[10:], h.RingVersion)
	binary.BigEndian.PutUint64(p[18:], uint64(h.Size))
	binary.BigEndian.PutUint64(p[26:], h.Version)
	binary.BigEndian.PutUint16(p[34:], uint16(len(etag)))
	binary.BigEndian.PutUint16(p[36:], uint16(len(msg)))
	b = append(b, etag...)
	b = append(b, msg...)
	if withModTime {
		var ns int64
		if !h.ModTime.IsZero() {
			ns = h.ModTime.UnixNano()
		}
		b = binary.BigEndian.AppendUint64(b, uint64(ns))
	}
	return b
}

// withModTime says the request set FlagModTime, so the frame may end with
// the ModTime suffix (a server that predates the flag omits it).
func parseHeader(p []byte, withModTime bool) (id uint64, h ReadHeader, err error) {
	if len(p) < headerFixed {
		return 0, h, fmt.Errorf("%w: short header frame", ErrProtocol)
	}
	id = binary.BigEndian.Uint64(p[0:])
	h.Status = Status(binary.BigEndian.Uint16(p[8:]))
	h.RingVersion = binary.BigEndian.Uint64(p[10:])
	h.Size = int64(binary.BigEndian.Uint64(p[18:]))
	h.Version = binary.BigEndian.Uint64(p[26:])
	el := int(binary.BigEndian.Uint16(p[34:]))
	ml := int(binary.BigEndian.Uint16(p[36:]))
	if withModTime && headerFixed+el+ml+8 == len(p) {
		if ns := int64(binary.BigEndian.Uint64(p[len(p)-8:])); ns != 0 {
			h.ModTime = time.Unix(0, ns).UTC()
		}
		p = p[:len(p)-8]
	}
	if headerFixed+el+ml != len(p) {
		return 0, h, fmt.Errorf("%w: header frame lengths do not add up", ErrProtocol)
	}
	if h.Size < 0 {
		return 0, h, fmt.Errorf("%w: negative object size", ErrProtocol)
	}
	h.ETag = string(p[headerFixed : headerFixed+el])
	h.Error = string(p[headerFixed+el:])
	return id, h, nil
}

// segmentInfo is a decoded segment frame body; the data follows on the wire.
type segmentInfo struct {
	off       int64
	length    int64
	chunkSize int
	crcs      []uint32
}

func appendSegmentHeader(b []byte, logicalOff, length int64, chunkSize int, crcs []uint32) []byte {
	n := segmentFixed + 4*len(crcs)
	start := len(b)
	b = append(b, make([]byte, FrameHeaderSize+n)...)
	putFrameHeader(b[start:], frameSegment, n)
	p := b[start+FrameHeaderSize:]
	binary.BigEndian.PutUint64(p[0:], uint64(logicalOff))
	binary.BigEndian.PutUint32(p[8:], uint32(length))
	binary.BigEndian.PutUint32(p[12:], uint32(chunkSize))
	for i, c := range crcs {
		binary.BigEndian.PutUint32(p[segmentFixed+4*i:], c)
	}
	return b
}

// checkSegment validates segment parameters, on both sides.
func checkSegment(logicalOff, length int64, chunkSize, ncrcs int) error {
	switch {
	case logicalOff < 0:
		return fmt.Errorf("%w: negative segment offset", ErrProtocol)
	case length <= 0 || length > MaxSegmentLength:
		return fmt.Errorf("%w: segment length %d not in (0, %d]", ErrProtocol, length, MaxSegmentLength)
	case chunkSize < MinChunkSize || chunkSize > MaxSegmentLength:
		return fmt.Errorf("%w: chunk size %d not in [%d, %d]", ErrProtocol, chunkSize, MinChunkSize, MaxSegmentLength)
	case ncrcs != numChunks(length, chunkSize):
		return fmt.Errorf("%w: %d CRCs for %d bytes in chunks of %d", ErrProtocol, ncrcs, length, chunkSize)
	}
	return nil
}

// parseSegment decodes a segment body, reusing crcs.
func parseSegment(p []byte, crcs []uint32) (segmentInfo, error) {
	if len(p) < segmentFixed || (len(p)-segmentFixed)%4 != 0 {
		return segmentInfo{}, fmt.Errorf("%w: bad segment frame size %d", ErrProtocol, len(p))
	}
	s := segmentInfo{
		off:       int64(binary.BigEndian.Uint64(p[0:])),
		length:    int64(binary.BigEndian.Uint32(p[8:])),
		chunkSize: int(binary.BigEndian.Uint32(p[12:])),
	}
	n := (len(p) - segmentFixed) / 4
	if err := checkSegment(s.off, s.length, s.chunkSize, n); err != nil {
		return segmentInfo{}, err
	}
	crcs = crcs[:0]
	for i := range n {
		crcs = append(crcs, binary.BigEndian.Uint32(p[segmentFixed+4*i:]))
	}
	s.crcs = crcs
	return s, nil
}

func appendTrailer(b []byte, st Status, msg string, s *ReadStats) []byte {
	node, msg := clip(s.Node), clip(msg)
	n := trailerFixed + len(node) + len(msg)
	start := len(b)
	b = append(b, make([]byte, FrameHeaderSize+trailerFixed)...)
	putFrameHeader(b[start:], frameTrailer, n)
	p := b[start+FrameHeaderSize:]
	binary.BigEndian.PutUint16(p[0:], uint16(st))
	binary.BigEndian.PutUint64(p[2:], uint64(s.BytesLocal))
	binary.BigEndian.PutUint64(p[10:], uint64(s.BytesPeer))
	binary.BigEndian.PutUint64(p[18:], uint64(s.BytesUnderstore))
	binary.BigEndian.PutUint64(p[26:], uint64(s.PagesHit))
	binary.BigEndian.PutUint64(p[34:], uint64(s.PagesMissed))
	binary.BigEndian.PutUint16(p[42:], uint16(len(node)))
	binary.BigEndian.PutUint16(p[44:], uint16(len(msg)))
	b = append(b, node...)
	return append(b, msg...)
}

// parseTrailer decodes a trailer frame body. prevNode, the node name of the
// previous trailer on the connection, is returned as is when it repeats.
func parseTrailer(p []byte, prevNode string) (st Status, msg string, s ReadStats, err error) {
	if len(p) < trailerFixed {
		return 0, "", s, fmt.Errorf("%w: short trailer frame", ErrProtocol)
	}
	st = Status(binary.BigEndian.Uint16(p[0:]))
	s.BytesLocal = int64(binary.BigEndian.Uint64(p[2:]))
	s.BytesPeer = int64(binary.BigEndian.Uint64(p[10:]))
	s.BytesUnderstore = int64(binary.BigEndian.Uint64(p[18:]))
	s.PagesHit = int64(binary.BigEndian.Uint64(p[26:]))
	s.PagesMissed = int64(binary.BigEndian.Uint64(p[34:]))
	nl := int(binary.BigEndian.Uint16(p[42:]))
	ml := int(binary.BigEndian.Uint16(p[44:]))
	if trailerFixed+nl+ml != len(p) {
		return 0, "", s, fmt.Errorf("%w: trailer frame lengths do not add up", ErrProtocol)
	}
	if node := p[trailerFixed : trailerFixed+nl]; string(node) == prevNode {
		s.Node = prevNode // the usual case on a connection: no new string
	} else {
		s.Node = string(node)
	}
	if ml > 0 {
		msg = string(p[trailerFixed+nl:])
	}
	return st, msg, s, nil
}

// clip bounds a variable-length string field so that every frame stays under
// MaxFrameBody (error messages are the only unbounded input).
func clip(s string) string {
	const maxField = 8 << 10
	if len(s) > maxField {
		return s[:maxField]
	}
	return s
}

// frameSource is what frames are read from: a *bufio.Reader (server) or a
// *connReader (client).
type frameSource interface {
	io.Reader
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// readFrame reads one frame header and, for non-segment frames, its body into
// buf (grown as needed). For a segment, the body (CRC list) is read but not
// the data that follows.
func readFrame(r frameSource, buf []byte) (frameHdr, []byte, error) {
	// Peek, not a local array: an array passed to io.ReadFull escapes, an
	// allocation on every frame of every read.
	hb, err := r.Peek(FrameHeaderSize)
	if err != nil {
		if err == io.EOF && len(hb) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return frameHdr{}, buf, err
	}
	h, err := parseFrameHeader(hb)
	if err != nil {
		return h, buf, err
	}
	_, _ = r.Discard(FrameHeaderSize)
	if cap(buf) < int(h.n) {
		buf = make([]byte, h.n)
	}
	buf = buf[:h.n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, buf, err
	}
	return h, buf, nil
}
