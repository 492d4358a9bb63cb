package node

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/transport"
)

// statusPeerTimeout bounds the Members call that gets a peer's own stats
// for the status page: a slow peer shows as unreachable, not as a hang.
const statusPeerTimeout = time.Second

// StatusJSON is the body of GET /v1/status, what the status page (GET /)
// polls: every member this node knows (left and dead ones for a while),
// its share of the ring, and the stats it reports about itself.
type StatusJSON struct {
	// Node is the node that answered.
	Node        string             `json:"node"`
	RingVersion string             `json:"ring_version"`
	Time        time.Time          `json:"time"`
	Members     []StatusMemberJSON `json:"members"`
}

// StatusMemberJSON is one member of StatusJSON.
type StatusMemberJSON struct {
	MemberJSON
	// Share is the fraction of the ring's partitions the member owns (0
	// when it is not in the ring: joining, leaving, gone).
	Share float64 `json:"share"`
	// Stats is what the member reports about itself; null when it was not
	// asked (suspect, dead or left) or did not answer (Error says why).
	Stats *StatsJSON `json:"stats"`
	Error string     `json:"error,omitempty"`
}

// StatsJSON is one node's counters since it started and its shadow cache.
type StatsJSON struct {
	PagesHit        int64   `json:"pages_hit"`
	PagesMissed     int64   `json:"pages_missed"`
	HitRatio        float64 `json:"hit_ratio"` // pages_hit/(pages_hit+pages_missed), 0 before any read
	BytesLocal      int64   `json:"bytes_local"`
	BytesPeer       int64   `json:"bytes_peer"`
	BytesUnderstore int64   `json:"bytes_understore"`
	UsedBytes       int64   `json:"used_bytes"`
	CapacityBytes   int64   `json:"capacity_bytes"`
	Pages           int64   `json:"pages"`

	ShadowWindowSeconds   float64 `json:"shadow_window_seconds"`
	ShadowWorkingSetBytes int64   `json:"shadow_working_set_bytes"`
	ShadowHitRatio        float64 `json:"shadow_hit_ratio"`
}

func statsJSON(s *transport.NodeStats) *StatsJSON {
	out := &StatsJSON{PagesHit: s.PagesHit, PagesMissed: s.PagesMissed, BytesLocal: s.BytesLocal, BytesPeer: s.BytesPeer,
		BytesUnderstore: s.BytesUnderstore, UsedBytes: s.UsedBytes, CapacityBytes: s.CapacityBytes, Pages: s.Pages,
		ShadowWindowSeconds: s.ShadowWindow.Seconds(), ShadowWorkingSetBytes: s.ShadowWorkingSetBytes, ShadowHitRatio: s.ShadowHitRatio}
	if t := s.PagesHit + s.PagesMissed; t > 0 {
		out.HitRatio = float64(s.PagesHit) / float64(t)
	}
	return out
}

func (n *Node) httpStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, n.status(r.Context()))
}

// status gathers the status page's data: this node's own stats, and those
// of every other joining, active or leaving member from its Members
// answer, asked in parallel (statusPeerTimeout each).
func (n *Node) status(ctx context.Context) StatusJSON {
	rg := n.ring()
	out := StatusJSON{Node: n.id, RingVersion: rg.VersionString(), Time: n.now().UTC()}
	members := n.members.Members()
	out.Members = make([]StatusMemberJSON, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		sm := &out.Members[i]
		sm.MemberJSON, sm.Share = memberJSON(m), rg.Share(m.ID)
		switch {
		case m.ID == n.id:
			sm.Stats = statsJSON(n.selfStats())
		case m.State == membership.StateActive || m.State == membership.StateJoining || m.State == membership.StateLeaving:
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := n.peerStats(ctx, m)
				if err != nil {
					sm.Error = err.Error()
					return
				}
				sm.Stats = statsJSON(st)
			}()
		}
	}
	wg.Wait()
	return out
}

// peerStats asks a member for the stats it reports about itself.
func (n *Node) peerStats(ctx context.Context, m membership.Member) (*transport.NodeStats, error) {
	cc, err := n.peerControl(m.ID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, statusPeerTimeout)
	defer cancel()
	resp, err := cc.Members(ctx, &transport.MembersRequest{SelfStats: true})
	if err != nil {
		return nil, err
	}
	for _, mi := range resp.Members {
		if mi.ID == m.ID && mi.Self != nil {
			return mi.Self, nil
		}
	}
	return nil, errNoSelfStats
}

// errNoSelfStats: a member answered Members without its own stats (a node
// that predates them).
var errNoSelfStats = errors.New("node: member reports no stats of its own")
