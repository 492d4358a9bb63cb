package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
)

// forwardChunk is how many bytes of a forwarded read are relayed at a time:
// the forwarding node holds at most this much of one read in memory.
const forwardChunk = 8 << 20

// forwardRead relays a read to the owner (one hop: the owner serves it
// whatever its own ring says). served is false when the owner could not be
// reached before anything was sent, so the caller serves the read itself.
func (n *Node) forwardRead(ctx context.Context, owner string, req *transport.ReadRequest, w *response) (served bool, err error) {
	m, ok := n.members.Member(owner)
	if !ok || m.Meta.GRPCAddr == "" {
		return false, nil
	}
	fwd := *req
	fwd.Flags |= transport.FlagNoForward
	buf := make([]byte, min(req.Length, forwardChunk))
	off, end := req.Offset, req.Offset+req.Length
	for first := true; first || off < end; first = false {
		fwd.Offset = off
		fwd.Length = min(end-off, forwardChunk)
		fctx, cancel := context.WithTimeout(ctx, n.cfg.ForwardTimeout)
		res, err := n.peers.Read(fctx, m.Meta.GRPCAddr, &fwd, buf[:fwd.Length])
		cancel()
		if err != nil {
			if first && !permanentStream(err) {
				n.metrics.forwards.WithLabelValues("unreachable").Inc()
				n.log.LogAttrs(ctx, slog.LevelDebug, "owner unreachable; serving the read here", slog.String("owner", owner),
					slog.String("path", req.Path), readIDAttr(req.ReadID), slog.Any("err", err))
				return false, nil
			}
			n.metrics.forwards.WithLabelValues("error").Inc()
			return true, err
		}
		if first {
			// The header carries our ring version so the caller sees its
			// ring is stale.
			h := res.Header
			h.RingVersion = n.ring().Version()
			if err := n.sendHeader(w, h); err != nil {
				return true, err
			}
			// Fix the file's version for the rest of the relay.
			fwd.ETag = h.ETag
		}
		if res.N > 0 {
			if err := w.WriteSegment(off, buf[:res.N]); err != nil {
				return true, err
			}
		}
		st := w.st
		st.BytesPeer += int64(res.N)
		st.PagesHit += res.Stats.PagesHit
		st.PagesMissed += res.Stats.PagesMissed
		n.metrics.readBytes.WithLabelValues(sourcePeer).Add(float64(res.N))
		if int64(res.N) < fwd.Length {
			break // end of file
		}
		off += int64(res.N)
	}
	n.metrics.forwards.WithLabelValues("ok").Inc()
	if n.log.Enabled(ctx, slog.LevelDebug) {
		n.log.LogAttrs(ctx, slog.LevelDebug, "read forwarded", slog.String("owner", owner), slog.String("path", req.Path),
			readIDAttr(req.ReadID), slog.Int64("offset", req.Offset), slog.Int64("length", req.Length))
	}
	return true, nil
}

// permanentStream reports stream errors another node would give too.
func permanentStream(err error) bool {
	return errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrBadRequest) ||
		errors.Is(err, transport.ErrOutOfRange) || errors.Is(err, transport.ErrAccessDenied) ||
		errors.Is(err, transport.ErrTooLarge) || errors.Is(err, transport.ErrChanged) ||
		errors.Is(err, context.Canceled)
}

// readFromPreviousOwner fills buf from the node that owned the file before
// the last ring change, if it still holds exactly these pages of exactly
// this version (warm handoff on scale-out). It never touches the
// under-store on the peer.
func (n *Node) readFromPreviousOwner(ctx context.Context, p string, m storage.FileMeta, off int64, buf []byte) bool {
	n.prev.Lock()
	prev, at := n.prev.ring, n.prev.at
	n.prev.Unlock()
	if prev == nil || n.now().Sub(at) > handoffWindow {
		return false
	}
	owner := prev.Owner(p)
	if owner == "" || owner == n.id {
		return false
	}
	mem, ok := n.members.Member(owner)
	if !ok || (mem.State != membership.StateActive && mem.State != membership.StateLeaving) {
		return false
	}
	req := &transport.ReadRequest{Path: p, Offset: off, Length: int64(len(buf)), ETag: m.Content.ETag,
		Flags: transport.FlagNoForward | transport.FlagCachedOnly}
	pctx, cancel := context.WithTimeout(ctx, min(n.cfg.ForwardTimeout, 2*time.Second))
	defer cancel()
	res, err := n.peers.Read(pctx, mem.Meta.GRPCAddr, req, buf)
	return err == nil && res.N == len(buf) && res.Header.ETag == m.Content.ETag
}
