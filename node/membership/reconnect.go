// Healing partitions: rejoining members held as dead (this dials TCP).

package membership

import (
	"slices"
	"time"
)

// reconnectLoop heals partitions (see Config.ReconnectInterval): every
// interval it joins one dead member's address, round robin, or the Join
// addresses while this node is alone. A quick TCP dial first skips
// addresses that do not answer, so a Shutdown never waits for memberlist's
// TCPTimeout here.
func (m *Membership) reconnectLoop() {
	defer m.loops.Done()
	if m.cfg.ReconnectInterval < 0 {
		return
	}
	tick := time.NewTicker(m.cfg.ReconnectInterval)
	defer tick.Stop()
	var next int
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		if m.leaving.Load() {
			continue
		}
		var addrs []string
		m.mu.Lock()
		for id, e := range m.nodes {
			if e.gone && e.State == StateDead && id != m.name && e.Addr != "" {
				addrs = append(addrs, e.Addr)
			}
		}
		m.mu.Unlock()
		if m.ml.NumMembers() <= 1 {
			addrs = append(addrs, m.cfg.Join...)
		}
		if len(addrs) == 0 {
			continue
		}
		slices.Sort(addrs)
		addr := addrs[next%len(addrs)]
		next++
		switch res, err := m.joinOne(addr, min(m.cfg.ReconnectInterval, time.Second)); res {
		case joined:
			m.log.Info("reconnected to a member held as dead or a join address", "addr", addr)
		case refused:
			// Not a partition: that side will never take us (or we it).
			if m.shouldLog("reconnect refused " + addr) {
				m.log.Error("a member or join address refuses this node; they stay apart", "addr", addr, "err", err)
			}
		default:
			if m.shouldLog("reconnect " + addr) {
				m.log.Debug("reconnect failed", "addr", addr, "err", err)
			}
		}
	}
}
