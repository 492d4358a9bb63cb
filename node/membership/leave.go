// What this node tells the others about itself (SetState, Leave), and the
// waits for those broadcasts, which end when nobody is left to hear them.

package membership

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// leaveMsg prefixes the user message a leaving node sends to every member
// over TCP before memberlist's own leave: the leave notice does not say
// whether a node left or died, and the gossiped StateLeaving may arrive after
// it, so this makes "left" reliable. The node's name follows.
const leaveMsg = "ringcache/leave:\x00"

// deafGrace is how long a broadcast is still waited for once every other
// member memberlist holds alive is itself leaving or suspect: they are about
// to go too (a whole cluster stopped at once) or may already be gone, so
// their acknowledgement is worth a moment, not the whole timeout.
const deafGrace = time.Second

// audiencePoll is how often a broadcast wait looks at who is left to hear
// it. Suspicion raises no memberlist event, so this polls.
const audiencePoll = 20 * time.Millisecond

// SetState changes the state in this node's meta and gossips it: StateActive
// puts the node into every ring, StateJoining or StateLeaving takes it out
// while it keeps gossiping. It blocks until memberlist has sent the update
// (a few gossip intervals), the TCP timeout, or until no other member is
// left to hear it (see Leave); a timeout is logged, not returned: the new
// meta is in place and spreads with the next push/pull.
func (m *Membership) SetState(s State) error {
	return m.setState(s, m.broadcastTimeout(), &audience{m: m})
}

func (m *Membership) setState(s State, timeout time.Duration, aud *audience) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if !s.gossiped() {
		return fmt.Errorf("%w: cannot gossip state %q (want joining, active or leaving)", ErrConfig, s)
	}
	m.mu.Lock()
	meta := m.self
	meta.State = s
	b, err := EncodeMeta(meta)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	old := m.self.State
	m.self, m.selfBytes = meta, b
	m.mu.Unlock()
	m.log.Info("state changed", "from", old, "to", s)
	m.signal()
	// No gate: UpdateNode queues its alive message at once, and one queued
	// late is harmless (memberlist drops our alive messages after Leave).
	if err := aud.await("state update", timeout, nil, m.ml.UpdateNode); err != nil {
		m.log.Warn("state broadcast not confirmed; it will spread with gossip", "state", s, "err", err)
	}
	return nil
}

func (m *Membership) broadcastTimeout() time.Duration {
	if m.cfg.TCPTimeout > 0 {
		return m.cfg.TCPTimeout
	}
	return DefaultLeaveTimeout
}

// Leave leaves the cluster gracefully: it gossips StateLeaving (others drop
// the node from their rings at once and later list it as left, not dead),
// tells every member directly, then broadcasts memberlist's leave and waits
// for it to go out. All of it takes at most timeout (0 = 5s). Call Shutdown
// afterwards. Shutdown without Leave is a crash as far as the others can
// tell.
//
// A leave nobody is left to hear is complete: when no other member is alive
// (the rest of the cluster stopped at the same moment) Leave returns nil at
// once, and when every other one is itself leaving or suspect it waits at
// most deafGrace (1s) more. memberlist alone would wait out the whole
// timeout and fail: it looks for live members only before it waits, and
// gossips only to live members, so once the others are gone its leave
// broadcast never goes out.
func (m *Membership) Leave(timeout time.Duration) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if timeout <= 0 {
		timeout = DefaultLeaveTimeout
	}
	deadline := time.Now().Add(timeout)
	aud := &audience{m: m} // one grace period for every step
	m.mu.Lock()
	already := m.self.State == StateLeaving
	m.mu.Unlock()
	if !already { // node.Close may have gossiped it already
		if err := m.setState(StateLeaving, timeout, aud); err != nil {
			return err
		}
	}
	m.advMu.Lock()
	m.leaving.Store(true)
	m.advMu.Unlock()
	_ = aud.await("leave notice", remaining(deadline), nil, m.tellLeaving)
	// Gated on m.left: memberlist's Leave panics once Shutdown ran, so
	// this must not return (and let the caller shut down) before that
	// Leave has begun; m.left is closed inside it.
	if err := aud.await("leave", remaining(deadline), m.left, m.ml.Leave); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	m.log.Info("left cluster")
	return nil
}

// remaining is the time left until deadline, at least a millisecond:
// memberlist takes a zero timeout as "wait forever".
func remaining(deadline time.Time) time.Duration {
	return max(time.Until(deadline), time.Millisecond)
}

// tellLeaving sends leaveMsg to every other live member over TCP, in
// parallel, bounded by timeout; failures only cost the "left" label.
func (m *Membership) tellLeaving(timeout time.Duration) error {
	msg := []byte(leaveMsg + m.name)
	var wg sync.WaitGroup
	for _, n := range m.ml.Members() {
		if n.Name == m.name {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.ml.SendReliable(n, msg); err != nil {
				m.log.Debug("leave notice not delivered", "member", n.Name, "err", err)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	return nil
}

// audience follows, over the steps of one Leave (or one SetState), who is
// left to hear this node's broadcasts.
type audience struct {
	m         *Membership
	deafSince time.Time // when every other live member was first seen leaving or suspect
}

// count returns the other members memberlist still gossips to (alive or
// suspect) and how many of them listen: alive, not suspect, not leaving.
func (a *audience) count() (alive, listening int) {
	nodes := a.m.ml.Members() // memberlist's live members: alive or suspect
	a.m.mu.Lock()
	defer a.m.mu.Unlock()
	for _, n := range nodes {
		if n.Name == a.m.name {
			continue
		}
		alive++
		if n.State == memberlist.StateSuspect {
			continue
		}
		if e, ok := a.m.nodes[n.Name]; ok && (e.leaving || e.Meta.State == StateLeaving) {
			continue
		}
		listening++
	}
	return alive, listening
}

// deaf reports why nobody is left to hear a broadcast ("" while somebody
// may): no other member alive, or every one leaving or suspect for
// deafGrace.
func (a *audience) deaf() string {
	alive, listening := a.count()
	switch {
	case alive == 0:
		return "no other member is alive"
	case listening > 0:
		a.deafSince = time.Time{}
		return ""
	case a.deafSince.IsZero():
		a.deafSince = time.Now()
	case time.Since(a.deafSince) >= deafGrace:
		return "every other member is leaving or suspect"
	}
	return ""
}

// await runs send, a call that blocks until its broadcast went out or its
// timeout passed (memberlist's UpdateNode and Leave), and returns its
// error; but it returns nil as soon as nobody is left to hear the
// broadcast, and a timeout of send is no error then either. Once gate is
// not nil, that only applies after gate is closed. send keeps running in
// the background until its own timeout.
func (a *audience) await(what string, timeout time.Duration, gate <-chan struct{}, send func(time.Duration) error) error {
	done := make(chan error, 1)
	go func() { done <- send(timeout) }()
	tick := time.NewTicker(audiencePoll)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if why := a.deaf(); err != nil && why != "" {
				a.m.log.Info(what+" not confirmed; nobody is left to hear it", "why", why, "err", err)
				return nil
			}
			return err
		case <-tick.C:
		}
		if gate != nil {
			select {
			case <-gate:
			default:
				continue
			}
		}
		if why := a.deaf(); why != "" {
			a.m.log.Info(what+": nobody is left to hear it; not waiting", "why", why)
			return nil
		}
	}
}
