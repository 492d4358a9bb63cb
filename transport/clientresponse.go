package transport

import (
	"fmt"
	"io"
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
	gotID, hdr, err := parseHeader(body)
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

// readSegment reads a segment's data, in groups of chunks of up to
// readGroupBytes, each with one readv (connReader.readFull) and verified
// right after, while it is still in the CPU cache: chunks wholly inside the
// requested range go straight into dst, the others (overhanging edges) into
// a pooled scratch buffer, from which only their requested bytes are
// copied.
func (c *Client) readSegment(cn *clientConn, req *ReadRequest, dst []byte, seg segmentInfo) error {
	reqEnd := req.Offset + int64(len(dst))
	cs := int64(seg.chunkSize)
	segEnd := seg.off + seg.length
	chunk := func(k int) (off, n int64, inside bool) {
		off = seg.off + int64(k)*cs
		n = min(cs, segEnd-off)
		return off, n, off >= req.Offset && off+n <= reqEnd
	}
	for i := 0; i < len(seg.crcs); {
		// The group [i, j) and the scratch its edge chunks need.
		j, group, need := i, int64(0), int64(0)
		for j < len(seg.crcs) && (j == i || group < readGroupBytes) {
			_, n, inside := chunk(j)
			if !inside {
				need += n
			}
			group += n
			j++
		}
		var bp *[]byte
		var scratch []byte
		if need > 0 {
			bp = c.getScratch(int(need))
			scratch = (*bp)[:need]
		}
		cn.pieces = cn.pieces[:0]
		var so int64
		prevInside := false
		for k := i; k < j; k++ {
			off, n, inside := chunk(k)
			switch {
			case !inside:
				cn.pieces = append(cn.pieces, scratch[so:so+n])
				so += n
			case prevInside:
				// Extends the run in dst of the chunk before.
				last := &cn.pieces[len(cn.pieces)-1]
				*last = (*last)[:len(*last)+int(n)]
			default:
				cn.pieces = append(cn.pieces, dst[off-req.Offset:off-req.Offset+n])
			}
			prevInside = inside
		}
		err := cn.br.readFull(cn.pieces)
		clear(cn.pieces)
		if err == nil {
			so = 0
			for k := i; k < j && err == nil; k++ {
				off, n, inside := chunk(k)
				var q []byte
				if inside {
					q = dst[off-req.Offset : off-req.Offset+n]
				} else {
					q = scratch[so : so+n]
					so += n
				}
				if CRC32C(q) != seg.crcs[k] {
					err = &CorruptError{Addr: cn.addr, Path: req.Path, Offset: off}
				} else if lo, hi := max(off, req.Offset), min(off+n, reqEnd); !inside && lo < hi {
					copy(dst[lo-req.Offset:hi-req.Offset], q[lo-off:hi-off])
				}
			}
		} else {
			err = unexpected(err)
		}
		if bp != nil {
			c.scratch.Put(bp)
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

// readGroupBytes is how many segment bytes the client reads with one readv
// before verifying them: small enough to stay in the CPU cache.
const readGroupBytes = 256 << 10

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
