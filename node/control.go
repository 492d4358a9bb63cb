package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/affinity"
	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
)

// memberInfo describes a member; selfStats adds this node's NodeStats to
// its own entry.
func (n *Node) memberInfo(m membership.Member, selfStats bool) transport.MemberInfo {
	mi := transport.MemberInfo{ID: m.ID, GRPCAddr: m.Meta.GRPCAddr, HTTPAddr: m.Meta.HTTPAddr, S3Addr: m.Meta.S3Addr,
		Zone: m.Meta.Zone, State: string(m.State)}
	if r := n.ring(); r != nil {
		mi.Share = r.Share(m.ID)
	}
	if m.ID == n.id {
		mi.BytesCached = n.store.Stats().UsedBytes
		if selfStats {
			mi.Self = n.selfStats()
		}
	}
	return mi
}

func (n *Node) membersResponse(selfStats bool) *transport.MembersResponse {
	r := n.ring()
	rc := r.Config()
	resp := &transport.MembersResponse{RingVersion: r.Version(), RingMembers: r.Members(),
		Partitions: rc.Partitions, Load: rc.Load, PageSize: rc.PageSize, ReplicationFactor: rc.ReplicationFactor}
	for _, m := range n.members.Members() {
		resp.Members = append(resp.Members, n.memberInfo(m, selfStats))
	}
	return resp
}

// Members implements transport.ControlServer.
func (n *Node) Members(ctx context.Context, req *transport.MembersRequest) (*transport.MembersResponse, error) {
	return n.membersResponse(req.SelfStats), nil
}

// WatchRing sends the members now and after every ring change.
func (n *Node) WatchRing(_ *transport.WatchRequest, stream grpc.ServerStreamingServer[transport.MembersResponse]) error {
	w, cancel := n.members.Watch()
	defer cancel()
	var last uint64
	for {
		resp := n.membersResponse(false)
		if resp.RingVersion != last {
			if err := stream.Send(resp); err != nil {
				return err
			}
			last = resp.RingVersion
		}
		select {
		case <-w:
		case <-stream.Context().Done():
			return nil
		case <-n.stop:
			return status.Error(codes.Unavailable, "node shutting down")
		}
	}
}

// peerControl returns the control client of a member.
func (n *Node) peerControl(id string) (transport.ControlClient, error) {
	m, ok := n.members.Member(id)
	if !ok || m.Meta.GRPCAddr == "" {
		return nil, fmt.Errorf("%w: member %s unknown", transport.ErrUnavailable, id)
	}
	return n.peers.Control(m.Meta.GRPCAddr)
}

// Stat implements transport.ControlServer: answered by the owner.
func (n *Node) Stat(ctx context.Context, req *transport.StatRequest) (*transport.StatResponse, error) {
	if err := objpath.Validate(req.Path); err != nil {
		return nil, rpcError(fmt.Errorf("%w: %w", ErrBadRequest, err))
	}
	owner := n.ring().Owner(req.Path)
	if !req.NoForward && owner != "" && owner != n.id {
		if cc, err := n.peerControl(owner); err == nil {
			fwd := *req
			fwd.NoForward = true
			fctx, cancel := context.WithTimeout(ctx, n.cfg.ForwardTimeout)
			resp, err := cc.Stat(fctx, &fwd)
			cancel()
			if err == nil || permanentRPC(err) {
				return resp, err
			}
			n.log.Debug("stat forward failed; answering here", "owner", owner, "err", err)
		}
	}
	m, err := n.fileMeta(ctx, req.Path, "", false)
	if err != nil {
		return nil, rpcError(err)
	}
	resp := &transport.StatResponse{Path: m.Path, Size: m.Size, ETag: m.Content.ETag, ModTime: m.Content.ModTime,
		Version: m.Version, Owner: owner, Pinned: m.Pinned, Scope: m.Scope, RingVersion: n.ring().Version()}
	total := pagefetch.PageCount(m.Size, n.cfg.PageSize)
	resp.TotalPages = int64(total)
	if req.NoPages {
		return resp, nil
	}
	for i := range total {
		if n.store.HasPage(storage.PageKey{File: m.ID, Version: m.Version, Index: i}) {
			resp.CachedPages++
			resp.CachedBytes += pagefetch.PageLen(m.Size, n.cfg.PageSize, i)
		}
	}
	return resp, nil
}

// broadcast runs call on every ring member (this node directly), in
// parallel, and returns each member's error.
func (n *Node) broadcast(ctx context.Context, call func(ctx context.Context, id string, cc transport.ControlClient) error) map[string]error {
	return n.broadcastTo(ctx, n.ring().Members(), call)
}

// broadcastTo is broadcast to the members ids: call gets a nil client for
// this node.
func (n *Node) broadcastTo(ctx context.Context, ids []string, call func(ctx context.Context, id string, cc transport.ControlClient) error) map[string]error {
	errs := make(map[string]error, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if id == n.id {
				err = call(ctx, id, nil)
			} else {
				var cc transport.ControlClient
				if cc, err = n.peerControl(id); err == nil {
					fctx, cancel := context.WithTimeout(ctx, n.cfg.ForwardTimeout)
					err = call(fctx, id, cc)
					cancel()
				}
			}
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errs
}

// Invalidate drops a path's (or prefix's) cached version on every node, so
// no failover copy survives either; it fails if the owner could not drop it.
func (n *Node) Invalidate(ctx context.Context, req *transport.InvalidateRequest) (*transport.InvalidateResponse, error) {
	if err := validateTarget(req.Path, req.Prefix); err != nil {
		return nil, rpcError(err)
	}
	if req.NoForward {
		files, err := n.invalidateLocal(req.Path, req.Prefix)
		return &transport.InvalidateResponse{Files: int64(files), RingVersion: n.ring().Version()}, rpcError(err)
	}
	total, err := n.fanOut(ctx, req.Path, false,
		func() (int, error) { return n.invalidateLocal(req.Path, req.Prefix) },
		func(ctx context.Context, cc transport.ControlClient) (int64, error) {
			fwd := *req
			fwd.NoForward = true
			r, err := cc.Invalidate(ctx, &fwd)
			if err != nil {
				return 0, err
			}
			return r.Files, nil
		})
	if err != nil {
		return nil, rpcError(fmt.Errorf("invalidate: %w", err))
	}
	return &transport.InvalidateResponse{Files: total, RingVersion: n.ring().Version()}, nil
}

// fanOut applies a change to a path or prefix on the members that may hold
// it: every ring member, or for a path with ownerOnly, just its owner. local
// runs here, remote on the others (with NoForward set by the caller); the
// files they changed are summed. It fails as requiredOK says.
func (n *Node) fanOut(ctx context.Context, path string, ownerOnly bool, local func() (int, error),
	remote func(context.Context, transport.ControlClient) (int64, error)) (int64, error) {
	var total int64
	var mu sync.Mutex
	owner := n.ring().Owner(path)
	errs := n.broadcast(ctx, func(ctx context.Context, id string, cc transport.ControlClient) error {
		if ownerOnly && path != "" && id != owner {
			return nil
		}
		var files int64
		if cc == nil {
			f, err := local()
			if err != nil {
				return err
			}
			files = int64(f)
		} else {
			f, err := remote(ctx, cc)
			if err != nil {
				return err
			}
			files = f
		}
		mu.Lock()
		total += files
		mu.Unlock()
		return nil
	})
	return total, n.requiredOK(path, errs)
}

// requiredOK fails when the owner of path (or, for a prefix, any member)
// failed; other members' failures are logged: their copies expire with the
// sync interval.
func (n *Node) requiredOK(path string, errs map[string]error) error {
	var failed []error
	owner := ""
	if path != "" {
		owner = n.ring().Owner(path)
	}
	for id, err := range errs {
		if err == nil {
			continue
		}
		if owner == "" || id == owner {
			failed = append(failed, fmt.Errorf("%s: %w", id, err))
		} else {
			n.log.Warn("member could not apply a broadcast", "member", id, "err", err)
		}
	}
	return errors.Join(failed...)
}

func validateTarget(path, prefix string) error {
	switch {
	case (path == "") == (prefix == ""):
		return fmt.Errorf("%w: give exactly one of path and prefix", ErrBadRequest)
	case path != "":
		// A directory marker's path is accepted (a write announces it).
		if err := transport.ValidateWritePath(path); err != nil {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	default:
		if err := objpath.ValidatePrefix(prefix); err != nil {
			return fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	}
	return nil
}

func (n *Node) invalidateLocal(path, prefix string) (int, error) {
	if path != "" {
		// A Stat in flight here may have seen the version before the
		// change that this invalidation announces: it must not record it.
		n.meta.wrote(path, n.now())
		n.meta.forget(path)
		n.objectChanged(path)
		if _, ok := n.store.Lookup(path); !ok {
			return 0, nil
		}
		return 1, n.store.Invalidate(path)
	}
	n.meta.forgetPrefix(prefix)
	n.objectChanged(prefix)
	return n.store.InvalidatePrefix(prefix)
}

// Pin pins or unpins a path (on its owner) or a prefix (on every node).
func (n *Node) Pin(ctx context.Context, req *transport.PinRequest) (*transport.PinResponse, error) {
	if err := validateTarget(req.Path, req.Prefix); err != nil {
		return nil, rpcError(err)
	}
	if req.NoForward {
		files, err := n.pinLocal(ctx, req.Path, req.Prefix, req.Pinned)
		return &transport.PinResponse{Files: int64(files)}, rpcError(err)
	}
	total, err := n.fanOut(ctx, req.Path, true,
		func() (int, error) { return n.pinLocal(ctx, req.Path, req.Prefix, req.Pinned) },
		func(ctx context.Context, cc transport.ControlClient) (int64, error) {
			fwd := *req
			fwd.NoForward = true
			r, err := cc.Pin(ctx, &fwd)
			if err != nil {
				return 0, err
			}
			return r.Files, nil
		})
	if err != nil {
		return nil, rpcError(fmt.Errorf("pin: %w", err))
	}
	return &transport.PinResponse{Files: total}, nil
}

func (n *Node) pinLocal(ctx context.Context, path, prefix string, pinned bool) (int, error) {
	if path != "" {
		if _, ok := n.store.Lookup(path); !ok {
			if !pinned {
				return 0, nil
			}
			if _, err := n.fileMeta(ctx, path, "", false); err != nil {
				return 0, err
			}
		}
		return 1, n.store.SetPinned(path, pinned)
	}
	count := 0
	for _, m := range n.store.Files(prefix) {
		if m.Pinned == pinned {
			continue
		}
		if err := n.store.SetPinned(m.Path, pinned); err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// Affinity implements transport.ControlServer.
func (n *Node) Affinity(ctx context.Context, req *transport.AffinityRequest) (*transport.AffinityResponse, error) {
	r := n.ring()
	resp := &transport.AffinityResponse{RingVersion: r.Version()}
	for _, p := range req.Paths {
		members, err := n.preferred(r, p, req.N)
		if err != nil {
			return nil, rpcError(err)
		}
		pa := transport.PathAffinity{Path: p}
		for _, m := range members {
			pa.Nodes = append(pa.Nodes, n.memberInfo(m, false))
		}
		resp.Results = append(resp.Results, pa)
	}
	return resp, nil
}

// Assign implements transport.ControlServer.
func (n *Node) Assign(ctx context.Context, req *transport.AssignRequest) (*transport.AssignResponse, error) {
	r := n.ring()
	splits := make([]affinity.Split, len(req.Splits))
	for i, s := range req.Splits {
		splits[i] = affinity.Split{Path: s.Path, Offset: s.Offset, Length: s.Length}
	}
	res, err := assign(r, splits, req.MaxLoad)
	if err != nil {
		return nil, rpcError(err)
	}
	out := &transport.AssignResponse{RingVersion: r.Version(), Load: res.Load}
	for _, a := range res.Assignments {
		out.Assignments = append(out.Assignments, transport.Assignment{Split: a.Split, Node: a.Node, PreferredRank: a.PreferredRank})
	}
	return out, nil
}

// StatObject is Stat for the S3 gateway in this process: the owner's view
// of the object's metadata (fresh within the sync interval, so a HEAD
// costs no under-store request), with errors matching the transport
// sentinels as read errors do.
func (n *Node) StatObject(ctx context.Context, path string) (transport.StatResponse, error) {
	resp, err := n.Stat(ctx, &transport.StatRequest{Path: path, RingVersion: n.ring().Version(), NoPages: true})
	if err != nil {
		return transport.StatResponse{}, statusFromRPC(err)
	}
	return *resp, nil
}
