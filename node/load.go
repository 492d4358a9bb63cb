package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// loadParallelism is how many files one Load warms at the same time.
const loadParallelism = 4

// Load warms the cache with a path or every file under a prefix: each file
// on its owner (this node, or forwarded once), streaming progress.
func (n *Node) Load(req *transport.LoadRequest, stream grpc.ServerStreamingServer[transport.LoadProgress]) error {
	if err := validateTarget(req.Path, req.Prefix); err != nil {
		return rpcError(err)
	}
	ctx := stream.Context()
	files, err := n.listTargets(ctx, req.Path, req.Prefix)
	if err != nil {
		return rpcError(err)
	}
	var mu sync.Mutex
	prog := transport.LoadProgress{FilesTotal: int64(len(files))}
	for _, f := range files {
		prog.BytesTotal += f.Size
	}
	send := func(p transport.LoadProgress) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(&p)
	}
	if err := send(prog); err != nil {
		return err
	}
	work := make(chan understore.ObjectInfo)
	var wg sync.WaitGroup
	var sendErr error
	for range min(loadParallelism, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				err := n.loadOne(ctx, f.Path, req)
				mu.Lock()
				prog.FilesDone++
				prog.BytesDone += f.Size
				prog.Path, prog.Error = f.Path, ""
				if err != nil {
					prog.Error = err.Error()
				}
				p := prog
				mu.Unlock()
				if err := send(p); err != nil && sendErr == nil {
					sendErr = err
				}
			}
		}()
	}
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return rpcError(ctx.Err())
	}
	return sendErr
}

// listTargets resolves a path or a prefix to the files to load.
func (n *Node) listTargets(ctx context.Context, path, prefix string) ([]understore.ObjectInfo, error) {
	if path != "" {
		info, err := n.under.Stat(ctx, path)
		n.metrics.understoreReq.WithLabelValues("stat", understoreResult(err)).Inc()
		if err != nil {
			return nil, err
		}
		return []understore.ObjectInfo{info}, nil
	}
	var out []understore.ObjectInfo
	token := ""
	for {
		page, err := n.under.List(ctx, prefix, "", token, 0)
		n.metrics.understoreReq.WithLabelValues("list", understoreResult(err)).Inc()
		if err != nil {
			return nil, err
		}
		out = append(out, page.Objects...)
		if page.NextToken == "" {
			return out, nil
		}
		token = page.NextToken
	}
}

// loadOne warms one file on its owner.
func (n *Node) loadOne(ctx context.Context, path string, req *transport.LoadRequest) error {
	owner := n.ring().Owner(path)
	if req.NoForward || owner == "" || owner == n.id {
		return n.loadLocal(ctx, path, req.Scope, req.Pin)
	}
	cc, err := n.peerControl(owner)
	if err != nil {
		return err
	}
	stream, err := cc.Load(ctx, &transport.LoadRequest{Path: path, Pin: req.Pin, Scope: req.Scope, NoForward: true})
	if err != nil {
		return err
	}
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
				return errors.New(s.Message())
			}
			return err
		}
		if p.Error != "" {
			return errors.New(p.Error)
		}
	}
}

// loadLocal makes every page of the file's current version cached here.
func (n *Node) loadLocal(ctx context.Context, path, scope string, pin bool) error {
	m, err := n.fileMeta(ctx, path, scope, false)
	if err != nil {
		return err
	}
	if pin {
		// Pin first, so the pages being loaded are not evicted meanwhile.
		if err := n.store.SetPinned(path, true); err != nil {
			return err
		}
	}
	total := pagefetch.PageCount(m.Size, n.cfg.PageSize)
	key := storage.PageKey{File: m.ID, Version: m.Version}
	read := n.underReader(path, m, 0)
	for wStart := uint32(0); wStart < total; wStart += n.readWindow() {
		wEnd := min(total-1, wStart+n.readWindow()-1)
		var flights []*pagefetch.Flight
		for idx := wStart; idx <= wEnd; idx++ {
			k := key
			k.Index = idx
			if n.store.HasPage(k) {
				continue
			}
			runEnd := idx
			for runEnd < wEnd {
				k.Index = runEnd + 1
				if n.store.HasPage(k) {
					break
				}
				runEnd++
			}
			fls, _ := n.fetch.Fetch(key, m.Size, idx, runEnd, 0, read)
			flights = append(flights, fls...)
			idx = runEnd
		}
		for _, fl := range flights {
			if _, err := fl.Wait(ctx); err != nil {
				return fmt.Errorf("load %s: %w", path, err)
			}
			select {
			case <-fl.Stored():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
