package membership

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestImmediateRestartReadvertises: with push/pull practically off, the only
// way the others learn a restarted node's new address, once the old entry
// is dead and reclaimable, is an alive message sent after that; the
// re-advertising loop sends it. Without the loop this waits for an hour.
func TestImmediateRestartReadvertises(t *testing.T) {
	noSync := func(c *Config) { c.PushPullInterval = time.Hour }
	ms := cluster(t, "r", 3, noSync)
	waitRing(t, ms, ids(ms), "3 nodes to converge")
	cfg := ms[2].cfg
	_ = ms[2].Shutdown()
	cfg.BindPort, cfg.AdvertisePort = 0, 0
	again := start(t, cfg)
	now := []*Membership{ms[0], ms[1], again}
	d := waitForState(t, converge, "the new address everywhere", func() bool {
		for _, m := range now {
			if mb, _ := m.Member(cfg.Name); mb.Addr != again.LocalAddr() || mb.State != StateActive {
				return false
			}
		}
		return true
	}, func() string {
		var b strings.Builder
		for _, m := range now {
			mb, _ := m.Member(cfg.Name)
			fmt.Fprintf(&b, "\n  %s sees %s at %s as %s", m.name, cfg.Name, mb.Addr, mb.State)
		}
		return b.String()
	})
	waitRing(t, now, ids(now), "the restarted node in every ring")
	t.Logf("immediate restart at a new port without push/pull: new address everywhere after %v", d)
}

// A member that comes back after the others stopped gossiping to it (a
// partition longer than GossipToTheDeadTime), without joining anybody
// itself, is joined again by the members that hold it as dead.
func TestReconnectAfterGossipToTheDead(t *testing.T) {
	fast := func(c *Config) { c.ReconnectInterval = 300 * time.Millisecond }
	ms := cluster(t, "r", 2, fast)
	all := ids(ms)
	waitRing(t, ms, all, "2 nodes to converge")
	victim := ms[1]
	cfg := victim.cfg
	_, portStr, _ := net.SplitHostPort(victim.LocalAddr())
	port, _ := strconv.Atoi(portStr)
	_ = victim.Shutdown()
	waitRing(t, ms[:1], ids(ms[:1]), "the cut-off node to leave the ring")
	// The cut lasts past GossipToTheDeadTime on purpose: after it, only the
	// reconnect loop can bring the two sides together again.
	time.Sleep(cfg.GossipToTheDeadTime + 500*time.Millisecond)
	cfg.BindPort, cfg.AdvertisePort = port, 0
	cfg.Join, cfg.JoinRequired = nil, false
	again := start(t, cfg)
	d := waitRing(t, []*Membership{ms[0], again}, all, "the node held as dead to be joined again")
	t.Logf("rejoined %v after it came back", d)
}
