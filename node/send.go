package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
)

// sendHeader sends the read's header before its first byte (once).
func (n *Node) sendHeader(w *response, hdr transport.ReadHeader) error {
	if w.headerSent {
		return nil
	}
	w.headerSent = true
	return w.WriteHeader(hdr)
}

// sendFromHandle sends a span of a cached page, widened to whole CRC chunks
// so the reader can verify them, straight from the page file (or its
// mapping). It takes over h and closes it when the bytes are out.
func (n *Node) sendFromHandle(w *response, rd *localRead, sp pageSpan, h *storage.PageHandle) error {
	if err := n.sendHeader(w, rd.hdr); err != nil {
		h.Close()
		return err
	}
	cs := int64(h.ChunkSize)
	c0, c1 := sp.lo/cs, (sp.hi+cs-1)/cs
	off, length := c0*cs, min(c1*cs, h.Length)-c0*cs
	var err error
	if h.Mapped != nil {
		err = w.WriteMappedSegment(sp.start+off, h.File, h.DataOffset+off, h.Mapped[off:off+length], h.ChunkSize, h.ChunkCRCs[c0:c1], h)
	} else {
		err = w.WriteFileSegment(sp.start+off, h.File, h.DataOffset+off, length, h.ChunkSize, h.ChunkCRCs[c0:c1])
		h.Close()
	}
	if err != nil {
		return err
	}
	n.account(w.st, rd, n.storedOrigin(rd, sp), sp)
	return nil
}

// sendFlight waits for a page's fetch and sends the span from memory.
func (n *Node) sendFlight(ctx context.Context, w *response, rd *localRead, sp pageSpan, fl *pagefetch.Flight, joined bool) error {
	data, err := fl.Wait(ctx)
	if err != nil {
		return fmt.Errorf("read %s: under-store: %w", rd.req.Path, err)
	}
	n.account(w.st, rd, n.flightOrigin(rd, sp, fl, joined), sp)
	if err := n.sendHeader(w, rd.hdr); err != nil {
		return err
	}
	return w.WriteSegment(sp.start+sp.lo, data[sp.lo:sp.hi])
}

// verifiedPage reports whether page idx is cached and passes a full CRC
// check (used on a reader's retry after it saw a corrupt chunk). A corrupt
// page is dropped by the store, so the caller fetches it again.
func (n *Node) verifiedPage(key storage.PageKey, idx uint32, size int64) bool {
	key.Index = idx
	buf := make([]byte, pagefetch.PageLen(size, n.cfg.PageSize, idx))
	_, err := n.store.ReadPage(key, 0, buf)
	if errors.Is(err, storage.ErrCorrupt) {
		n.log.Warn("dropped corrupt page", "file", key.File, "page", idx)
	}
	return err == nil
}

// sendVerified sends a span of a page that passed its CRC check, read
// (and checked again) from the store.
func (n *Node) sendVerified(w *response, rd *localRead, sp pageSpan) error {
	key := rd.key
	key.Index = sp.idx
	buf := make([]byte, sp.hi-sp.lo)
	if _, err := n.store.ReadPage(key, sp.lo, buf); err != nil {
		return fmt.Errorf("page %d: %w", sp.idx, err)
	}
	if err := n.sendHeader(w, rd.hdr); err != nil {
		return err
	}
	n.account(w.st, rd, n.storedOrigin(rd, sp), sp)
	return w.WriteSegment(sp.start+sp.lo, buf)
}
