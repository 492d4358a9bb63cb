package transport

import (
	"errors"
	"fmt"
	"io"

	"github.com/ringcache/ringcache/internal/chunkcrc"
)

// This file decodes a response: its header, segments (with their chunks'
// CRCs verified) and trailer.

func (c *Client) readResponse(cn *clientConn, id uint64, req *ReadRequest, dst []byte) (res ReadResult, started bool, err error) {
	h, body, err := readFrame(cn.br, cn.buf)
	cn.buf = body
	if err != nil {
		return res, false, err
	}
	if h.typ != frameHeader {
		return res, true, fmt.Errorf("%w: frame type %d, want a header", ErrProtocol, h.typ)
	}
	gotID, hdr, err := parseHeader(body, req.Flags&FlagModTime != 0)
	if err != nil {
		return res, true, err
	}
	if gotID != id {
		return res, true, fmt.Errorf("%w: response to request %d, want %d", ErrProtocol, gotID, id)
	}
	res.Header = hdr

	reqEnd := req.Offset + int64(len(dst))
	next := req.Offset // first logical offset not yet filled
	for {
		h, body, err := readFrame(cn.br, cn.buf)
		cn.buf = body
		if err != nil {
			return res, true, err
		}
		switch h.typ {
		case frameSegment:
			if hdr.Status != StatusOK {
				return res, true, fmt.Errorf("%w: segment after a non-OK header", ErrProtocol)
			}
			seg, err := parseSegment(body, cn.crcs)
			if err != nil {
				return res, true, err
			}
			cn.crcs = seg.crcs
			if seg.off > next && seg.off < reqEnd {
				return res, true, fmt.Errorf("%w: gap in segments at offset %d (next %d)", ErrProtocol, seg.off, next)
			}
			if err := c.readSegment(cn, req, dst, seg); err != nil {
				return res, true, err
			}
			if end := min(seg.off+seg.length, reqEnd); end > next && seg.off <= next {
				next = end
			}
		case frameTrailer:
			res.N = int(next - req.Offset)
			err := readTrailer(cn, req, reqEnd, body, &res)
			return res, true, err
		default:
			return res, true, fmt.Errorf("%w: frame type %d inside a response", ErrProtocol, h.typ)
		}
	}
}

// readTrailer decodes the trailer in body into res, whose Header and N
// (the bytes filled) are set. The response's status is the header's if that
// was not OK, else the trailer's.
func readTrailer(cn *clientConn, req *ReadRequest, reqEnd int64, body []byte, res *ReadResult) error {
	// One connection talks to one node: its name is kept, not allocated
	// again for every response.
	st, msg, stats, err := parseTrailer(body, cn.lastNode)
	if err != nil {
		return err
	}
	cn.lastNode = stats.Node
	res.Stats = stats
	hdr := &res.Header
	if hdr.Status != StatusOK {
		st, msg = hdr.Status, hdr.Error
	} else if want := max(0, min(reqEnd, hdr.Size)-req.Offset); st == StatusOK && int64(res.N) != want {
		// Fewer bytes than the object has: never hand back a silently
		// short read.
		return fmt.Errorf("%w: %d bytes for a read of %d of a %d-byte object", ErrProtocol, res.N, want, hdr.Size)
	}
	if st != StatusOK {
		// A clean error response: the connection stays usable, but the
		// caller gets no bytes.
		res.N = 0
		return errStatusKeep{&StatusError{Addr: cn.addr, Path: req.Path, Status: st, Msg: msg}}
	}
	return nil
}

// errStatusKeep marks an error response after which the connection is still
// in sync; Read unwraps it and keeps the connection.
type errStatusKeep struct{ err *StatusError }

func (e errStatusKeep) Error() string { return e.err.Error() }

// readSegment reads a segment's data with chunkcrc: in groups of chunks of
// up to chunkcrc.DefaultGroupBytes, each with one readv (connReader.readFull)
// and verified right after, while it is still in the CPU cache. Chunks
// wholly inside the requested range go straight into dst, the others
// (overhanging edges) into a pooled scratch buffer, from which only their
// requested bytes are copied.
func (c *Client) readSegment(cn *clientConn, req *ReadRequest, dst []byte, seg segmentInfo) error {
	chunks := chunkcrc.Chunks{Start: seg.off, Length: seg.length, Size: int64(seg.chunkSize), CRCs: seg.crcs}
	var bp *[]byte
	var scratch []byte
	if seg.off < req.Offset || seg.off+seg.length > req.Offset+int64(len(dst)) {
		// Room for both edges of a group: one readv for most segments.
		bp = c.getScratch(int(min(2*int64(seg.chunkSize), seg.length)))
		scratch = (*bp)[:cap(*bp)]
	}
	err := cn.chunks.ReadStream(cn.br, chunks, dst, req.Offset, scratch)
	if bp != nil {
		c.scratch.Put(bp)
	}
	if err != nil {
		// Declared here: errors.As moves me to the heap, an allocation
		// only failed reads should pay.
		var me *chunkcrc.MismatchError
		if errors.As(err, &me) {
			return &CorruptError{Addr: cn.addr, Path: req.Path, Offset: me.Offset}
		}
	}
	return err
}

func (c *Client) getScratch(n int) *[]byte {
	if bp, ok := c.scratch.Get().(*[]byte); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]byte, max(n, DefaultChunkSize))
	return &b
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
