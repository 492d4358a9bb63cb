package client

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ringcache/ringcache/affinity"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/transport"
)

// Member is a cluster member as the client sees it.
type Member = transport.MemberInfo

// view is an immutable snapshot of the cluster: members and the ring.
type view struct {
	ring     *ring.Ring
	members  map[string]Member
	list     []Member
	pageSize int64 // the cluster's page size (0: unknown)
}

// fetchMembers asks one node for the members and installs the ring.
func (c *Client) fetchMembers(ctx context.Context, addr string) error {
	cc, err := c.pool.Control(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, err := cc.Members(ctx, &transport.MembersRequest{})
	if err != nil {
		return err
	}
	return c.install(resp)
}

// install builds the ring a MembersResponse describes.
func (c *Client) install(resp *transport.MembersResponse) error {
	r, err := ring.New(ring.Config{Partitions: resp.Partitions, Load: resp.Load, PageSize: resp.PageSize, ReplicationFactor: resp.ReplicationFactor}, resp.RingMembers)
	if err != nil {
		return fmt.Errorf("client: build ring: %w", err)
	}
	if r.Version() != resp.RingVersion {
		// Same members and parameters must give the same version; if not,
		// the node runs another build. Reads still work (nodes forward).
		c.log.Warn("ring version differs from the node's", "node", resp.RingVersion, "client", r.Version())
	}
	v := &view{ring: r, members: make(map[string]Member, len(resp.Members)), list: resp.Members, pageSize: resp.PageSize}
	for _, m := range resp.Members {
		v.members[m.ID] = m
	}
	sort.Slice(v.list, func(i, j int) bool { return v.list[i].ID < v.list[j].ID })
	c.view.Store(v)
	return nil
}

// addrs lists addresses to ask for members: active members, then seeds.
func (c *Client) addrs() []string {
	var out []string
	seen := map[string]bool{}
	if v := c.view.Load(); v != nil {
		for _, id := range v.ring.Members() {
			if a := v.members[id].GRPCAddr; a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	for _, s := range c.cfg.Seeds {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (c *Client) anyAddr() string {
	if a := c.addrs(); len(a) > 0 {
		return a[0]
	}
	return ""
}

// RingVersion is the version of the client's current ring.
func (c *Client) RingVersion() uint64 { return c.view.Load().ring.Version() }

// Members returns the members as last reported by the cluster.
func (c *Client) Members() []Member {
	return append([]Member(nil), c.view.Load().list...)
}

// Preferred returns the n preferred nodes of a path, owner first: the order
// reads fail over in.
func (c *Client) Preferred(path string, n int) []Member {
	v := c.view.Load()
	var out []Member
	for _, id := range affinity.Preferred(v.ring, affinity.Config{}, affinity.Split{Path: path}, n) {
		m, ok := v.members[id]
		if !ok {
			m = Member{ID: id}
		}
		out = append(out, m)
	}
	return out
}

// Assign places a batch of splits on nodes with bounded loads (Presto-style
// soft affinity), computed locally on the client's ring.
func (c *Client) Assign(splits []affinity.Split, maxLoad float64) (affinity.Result, error) {
	return affinity.Assign(c.view.Load().ring, affinity.Config{}, splits, maxLoad)
}

// BytesCached asks every member for the page bytes it holds (each node
// knows only its own); members that do not answer are left out.
func (c *Client) BytesCached(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	for id, mi := range c.selfInfo(ctx, false) {
		out[id] = mi.BytesCached
	}
	return out
}

// MemberStats asks every member for the stats it reports about itself
// (hits, bytes by source, cache use, shadow cache); members that do not
// answer, or predate these stats, are left out.
func (c *Client) MemberStats(ctx context.Context) map[string]transport.NodeStats {
	out := map[string]transport.NodeStats{}
	for id, mi := range c.selfInfo(ctx, true) {
		if mi.Self != nil {
			out[id] = *mi.Self
		}
	}
	return out
}

// selfInfo asks every member, in parallel, for its Members answer (with
// its NodeStats if stats) and keeps the entry it gives about itself.
func (c *Client) selfInfo(ctx context.Context, stats bool) map[string]transport.MemberInfo {
	out := map[string]transport.MemberInfo{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range c.Members() {
		if m.GRPCAddr == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, err := c.pool.Control(m.GRPCAddr)
			if err != nil {
				return
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			resp, err := cc.Members(cctx, &transport.MembersRequest{SelfStats: stats})
			if err != nil {
				return
			}
			for _, mi := range resp.Members {
				if mi.ID == m.ID {
					mu.Lock()
					out[m.ID] = mi
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}
