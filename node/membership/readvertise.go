// Restarting at a new address: re-advertising until the cluster takes it.

package membership

import (
	"math"
	"time"
)

// readvertiseLoop speeds up a restart at a new address (a rescheduled pod,
// a new port). The others still hold our name at the old address: they
// refuse the new one as a name conflict until the old one is declared dead
// and DeadNodeReclaimTime has passed, and then take the new address only
// from the next alive message about us, which memberlist otherwise sends at
// the next push/pull (30s on a LAN; 35s measured with LAN defaults). So when
// the cluster is seen to know our name elsewhere, this re-advertises us
// every interval for as long as the old entry can take to be reclaimed.
func (m *Membership) readvertiseLoop() {
	defer m.loops.Done()
	t := m.cfg.Timing.orLAN()
	probe, mult := t.ProbeInterval, t.SuspicionMult
	interval := min(max(m.cfg.DeadNodeReclaimTime/4, 200*time.Millisecond), 2*time.Second)
	// Longest suspicion (memberlist: SuspicionMaxTimeoutMult(6) x
	// SuspicionMult x log10(members) x ProbeInterval), plus the reclaim time
	// and slack for gossip.
	window := func() time.Duration {
		n := max(m.ml.NumMembers(), 10)
		logN := math.Max(1, math.Log10(float64(n)))
		susp := time.Duration(float64(6*mult) * logN * float64(probe))
		return susp + m.cfg.DeadNodeReclaimTime + 5*time.Second
	}
	tick := time.NewTicker(interval)
	tick.Stop()
	defer tick.Stop()
	var until time.Time
	for {
		select {
		case <-m.stop:
			return
		case <-m.moved:
			if until.IsZero() {
				m.log.Info("the cluster knows this node at another address; re-advertising until it is reclaimed",
					"every", interval, "for", window())
			}
			until = time.Now().Add(window())
			tick.Reset(interval)
		case <-tick.C:
			if m.leaving.Load() || time.Now().After(until) {
				tick.Stop()
				until = time.Time{}
				continue
			}
			// advMu: an alive message after memberlist's leave would undo
			// it. A short timeout: best effort, must not hold up Shutdown.
			m.advMu.Lock()
			if !m.leaving.Load() {
				_ = m.ml.UpdateNode(min(interval, 500*time.Millisecond))
			}
			m.advMu.Unlock()
		}
	}
}

// noteMoved records that the cluster holds our name at another address.
func (m *Membership) noteMoved(addr string) {
	if self, _ := m.selfAddr.Load().(string); self == "" || addr == self {
		return
	}
	select {
	case m.moved <- struct{}{}:
	default:
	}
}
