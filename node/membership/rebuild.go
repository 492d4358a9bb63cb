// Turning member changes into rings: the debounce loop, the rebuild and
// the Watch subscribers it publishes to.

package membership

import (
	"sync"
	"time"

	"github.com/ringcache/ringcache/ring"
)

// signal tells the loop that the member set may have changed. Never blocks.
func (m *Membership) signal() {
	select {
	case m.dirty <- struct{}{}:
	default: // a signal is already pending; the rebuild will see this change too
	}
}

// loop debounces signals and rebuilds the ring once per burst: it waits until
// Debounce has passed without a signal, or 10*Debounce since the first one.
func (m *Membership) loop() {
	defer m.loops.Done()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	maxWait := time.NewTimer(time.Hour)
	maxWait.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.dirty:
		}
		quiet.Reset(m.cfg.Debounce)
		maxWait.Reset(10 * m.cfg.Debounce)
	burst:
		for {
			select {
			case <-m.stop:
				return
			case <-m.dirty:
				quiet.Reset(m.cfg.Debounce)
			case <-quiet.C:
				break burst
			case <-maxWait.C:
				break burst
			}
		}
		quiet.Stop()
		maxWait.Stop()
		m.rebuild()
	}
}

// rebuild builds the ring from the members that are active and alive and
// publishes it if its version differs from the current one.
func (m *Membership) rebuild() {
	m.rebuildMu.Lock()
	defer m.rebuildMu.Unlock()

	m.mu.Lock()
	m.pruneLocked(time.Now())
	ids := make([]string, 0, len(m.nodes))
	for _, e := range m.nodes {
		if !e.gone && m.memberLocked(e).State == StateActive {
			ids = append(ids, e.ID)
		}
	}
	known := len(m.nodes)
	m.mu.Unlock()

	m.rebuilds.Add(1)
	r, err := ring.New(m.cfg.Ring, ids)
	if err != nil {
		// Keep serving the old ring: a wrong one would be worse.
		m.log.Error("ring rebuild failed; keeping the current ring", "members", len(ids), "err", err)
		return
	}
	old := m.cur.Load()
	if old.Version() == r.Version() {
		m.log.Debug("ring unchanged", "ring_version", r.VersionString(), "members", len(ids), "known", known)
		return
	}
	m.cur.Store(r)
	m.changes.Add(1)
	m.log.Info("ring rebuilt", "old_version", old.VersionString(), "new_version", r.VersionString(),
		"members", len(ids), "known", known)
	m.publish(r)
}

// publish hands r to every subscriber without blocking: a full channel holds
// an older ring, which is replaced. Only rebuild sends (under rebuildMu), so
// the drain-then-send cannot race with another sender.
func (m *Membership) publish(r *ring.Ring) {
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	for _, ch := range m.subs {
		select {
		case ch <- r:
			continue
		default:
		}
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- r:
		default:
		}
	}
}

// Watch returns a channel that receives every new ring, starting with the
// current one, and a function that ends the subscription. The channel holds
// one ring: a subscriber that falls behind gets the newest ring, not every
// ring, and never slows the rebuild. The channel is closed by cancel or by
// Shutdown.
func (m *Membership) Watch() (<-chan *ring.Ring, func()) {
	ch := make(chan *ring.Ring, 1)
	m.subsMu.Lock()
	if m.closed.Load() {
		m.subsMu.Unlock()
		close(ch)
		return ch, func() {}
	}
	id := m.nextSub
	m.nextSub++
	m.subs[id] = ch
	ch <- m.cur.Load()
	m.subsMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			m.subsMu.Lock()
			defer m.subsMu.Unlock()
			if _, ok := m.subs[id]; ok {
				delete(m.subs, id)
				close(ch)
			}
		})
	}
}
