// memberlist calls in: the delegates that record member events, refuse
// incompatible peers and receive the leave notice.

package membership

import (
	"fmt"
	"strings"

	"github.com/hashicorp/memberlist"
)

// delegate implements memberlist's delegate interfaces. Its methods run on
// memberlist's goroutines, some under memberlist's locks: they only record
// and signal, never call back into memberlist, never block.
type delegate struct{ m *Membership }

// NodeMeta implements memberlist.Delegate. The size was checked when the
// meta was set.
func (d *delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	return d.m.selfBytes
}

// NotifyMsg implements memberlist.Delegate: the only user message is the
// leave notice (leaveMsg) a leaving member sends before memberlist's leave.
func (d *delegate) NotifyMsg(b []byte) {
	name, ok := strings.CutPrefix(string(b), leaveMsg)
	if !ok || name == "" {
		return
	}
	d.m.mu.Lock()
	if e, ok := d.m.nodes[name]; ok {
		e.leaving = true
		if e.gone {
			e.State = StateLeft
		}
	}
	d.m.mu.Unlock()
	d.m.signal()
}

// GetBroadcasts, LocalState and MergeRemoteState implement
// memberlist.Delegate: everything ringcache gossips is in the node meta.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

// NotifyJoin implements memberlist.EventDelegate.
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.m.record(n, false) }

// NotifyUpdate implements memberlist.EventDelegate (meta changed).
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.record(n, false) }

// NotifyLeave implements memberlist.EventDelegate (dead or left).
func (d *delegate) NotifyLeave(n *memberlist.Node) { d.m.record(n, true) }

// NotifyAlive implements memberlist.AliveDelegate: an alive message of an
// incompatible peer is ignored, so such a peer never becomes a member even
// if it reaches us through a third node's gossip.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name == d.m.name {
		return nil
	}
	return d.m.refuse(n.Name, n.Address(), n.Meta, "alive")
}

// NotifyMerge implements memberlist.MergeDelegate: a join's state exchange
// runs it on both sides, so both the joiner and the member it contacts
// refuse (and log) a mismatch, and the joiner's Join fails.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if n.Name == d.m.name {
			d.m.noteMoved(n.Address())
			continue
		}
		if n.State == memberlist.StateDead || n.State == memberlist.StateLeft {
			continue
		}
		if err := d.m.refuse(n.Name, n.Address(), n.Meta, "join"); err != nil {
			return fmt.Errorf("member %s: %w", n.Name, err)
		}
	}
	return nil
}

// NotifyConflict implements memberlist.ConflictDelegate: another node claims
// an existing member's name from another address, typically a restart at a
// new address before DeadNodeReclaimTime, or two nodes with the same --id.
func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	if existing.Name == d.m.name {
		d.m.noteMoved(other.Address())
	}
	if !d.m.shouldLog("conflict/" + existing.Name + "/" + other.Address()) {
		return
	}
	d.m.log.Warn("name conflict: same member name at two addresses", "member", existing.Name,
		"known_addr", existing.Address(), "other_addr", other.Address(),
		"hint", "a restart at a new address is accepted after DeadNodeReclaimTime; otherwise two nodes share an id")
}

// refuse decides whether a peer's meta is compatible with ours; it logs a
// refusal at most every 10s per peer.
func (m *Membership) refuse(name, addr string, metaBytes []byte, how string) error {
	meta, err := DecodeMeta(metaBytes)
	m.mu.Lock()
	self := m.self
	m.mu.Unlock()
	if err == nil {
		err = compatible(self, meta)
	}
	if err == nil {
		return nil
	}
	m.refused.Add(1)
	m.lastRefusal.Store(&err)
	if m.shouldLog("refuse/" + name) {
		m.log.Warn("refusing incompatible peer", "peer", name, "addr", addr, "how", how, "reason", err)
	}
	return err
}
