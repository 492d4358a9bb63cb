package node

import (
	"fmt"

	"github.com/ringcache/ringcache/affinity"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/transport"
)

// Defaults and bounds of the affinity requests, one set for gRPC (Affinity,
// Assign) and HTTP (GET /v1/affinity, POST /v1/affinity/assign), as
// CONTRACT.md shows them (n=3, max_load 1.25). A zero N or MaxLoad means the
// default; on HTTP, so does a missing n or max_load.
const (
	// DefaultAffinityNodes is how many preferred nodes a path gets.
	DefaultAffinityNodes = transport.DefaultAffinityNodes
	// MaxAffinityNodes bounds the preferred nodes asked for per path.
	MaxAffinityNodes = transport.MaxAffinityNodes
	// DefaultMaxLoad bounds an assignment to ceil(1.25 * splits / members)
	// splits per node.
	DefaultMaxLoad = 1.25
)

// affinityConfig places both surfaces' splits by whole path (no sections),
// as the SDK's client-side placement does, so every answer agrees.
var affinityConfig = affinity.Config{}

// affinityNodes applies the default and bounds to a request's n.
func affinityNodes(n int) (int, error) {
	if n == 0 {
		return DefaultAffinityNodes, nil
	}
	if n < 1 || n > MaxAffinityNodes {
		return 0, fmt.Errorf("%w: n: want an integer in [1, %d], got %d", ErrBadRequest, MaxAffinityNodes, n)
	}
	return n, nil
}

// assignMaxLoad applies the default to a request's max load; affinity.Assign
// checks the rest (at least 1).
func assignMaxLoad(maxLoad float64) float64 {
	if maxLoad == 0 {
		return DefaultMaxLoad
	}
	return maxLoad
}

// preferred returns the members of ring r preferred for path p, owner
// first: count of them (0: the default).
func (n *Node) preferred(r *ring.Ring, p string, count int) ([]membership.Member, error) {
	if err := objpath.Validate(p); err != nil {
		return nil, fmt.Errorf("%w: path: %w", ErrBadRequest, err)
	}
	count, err := affinityNodes(count)
	if err != nil {
		return nil, err
	}
	ids := affinity.Preferred(r, affinityConfig, affinity.Split{Path: p}, count)
	out := make([]membership.Member, 0, len(ids))
	for _, id := range ids {
		m, _ := n.members.Member(id)
		m.ID = id
		out = append(out, m)
	}
	return out, nil
}

// assign places splits on the members of ring r with at most maxLoad (0:
// the default) times the even share per node.
func assign(r *ring.Ring, splits []affinity.Split, maxLoad float64) (affinity.Result, error) {
	for i, s := range splits {
		if err := objpath.Validate(s.Path); err != nil {
			return affinity.Result{}, fmt.Errorf("%w: split %d: path: %w", ErrBadRequest, i, err)
		}
		if s.Offset < 0 || s.Length < 0 {
			return affinity.Result{}, fmt.Errorf("%w: split %d: negative offset or length", ErrBadRequest, i)
		}
	}
	res, err := affinity.Assign(r, affinityConfig, splits, assignMaxLoad(maxLoad))
	if err != nil {
		return affinity.Result{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return res, nil
}
