// The local table of members: what memberlist told us about each one.

package membership

import (
	"cmp"

	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// entry is the local record of one member.
type entry struct {
	Member
	gone    bool      // memberlist declared it dead or left
	goneAt  time.Time // when gone became true; bounds how long it stays listed
	leaving bool      // it told us directly that it is leaving (Leave)
}

// Members returns every known member in any state, sorted by ID, including
// dead and left ones for a while (Config.KeepGone, at most Config.MaxGone).
func (m *Membership) Members() []Member {
	m.mu.Lock()
	m.pruneLocked(time.Now())
	out := make([]Member, 0, len(m.nodes))
	for _, e := range m.nodes {
		out = append(out, m.memberLocked(e))
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Member returns the member with this ID, if known.
func (m *Membership) Member(id string) (Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nodes[id]
	if !ok {
		return Member{}, false
	}
	return m.memberLocked(e), true
}

// memberLocked returns e as seen now; the local node's meta is authoritative
// for itself (memberlist echoes it back only after gossiping it).
func (m *Membership) memberLocked(e *entry) Member {
	mb := e.Member
	if e.ID == m.name {
		mb.Meta = m.self
		mb.State = m.self.State
	}
	return mb
}

// record stores what memberlist told us about n.
func (m *Membership) record(n *memberlist.Node, gone bool) {
	addr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	meta, err := DecodeMeta(n.Meta)
	m.mu.Lock()
	e, ok := m.nodes[n.Name]
	if !ok {
		e = &entry{Member: Member{ID: n.Name}}
		m.nodes[n.Name] = e
	}
	e.Addr = addr
	if err == nil {
		e.Meta = meta
	}
	if gone {
		// memberlist does not say whether a member died or left; a node
		// that leaves through Leave gossips StateLeaving first.
		e.State = StateDead
		if e.Meta.State == StateLeaving || e.leaving {
			e.State = StateLeft
		}
		e.gone, e.goneAt = true, time.Now()
	} else {
		if e.gone {
			e.leaving = false // back: a new life
		}
		e.State = e.Meta.State
		e.gone = false
	}
	state := e.State
	m.mu.Unlock()
	if gone && n.Name == m.name {
		// Only memberlist's Leave marks us gone (it refutes anyone
		// else who says we are dead), after it queued the broadcast.
		m.leftOnce.Do(func() { close(m.left) })
	}
	m.events.Add(1)
	if err != nil && !gone {
		// NotifyAlive refuses such peers, so this is not expected.
		m.log.Warn("member with undecodable meta", "member", n.Name, "addr", addr, "err", err)
	}
	if n.Name != m.name {
		m.log.Debug("member event", "member", n.Name, "addr", addr, "state", state)
	}
	m.signal()
}

// pruneLocked forgets gone members older than KeepGone and, beyond MaxGone,
// the oldest gone ones, so a churning cluster cannot grow the map forever.
func (m *Membership) pruneLocked(now time.Time) {
	var gone []*entry
	for id, e := range m.nodes {
		if !e.gone {
			continue
		}
		if now.Sub(e.goneAt) > m.cfg.KeepGone {
			delete(m.nodes, id)
			continue
		}
		gone = append(gone, e)
	}
	if len(gone) <= m.cfg.MaxGone {
		return
	}
	slices.SortFunc(gone, func(a, b *entry) int { return a.goneAt.Compare(b.goneAt) })
	for _, e := range gone[:len(gone)-m.cfg.MaxGone] {
		delete(m.nodes, e.ID)
	}
}
