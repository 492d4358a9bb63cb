// Mapping Config onto memberlist.Config.

package membership

import (
	"log"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig maps Config onto memberlist's LAN defaults; the Timing
// fields left zero keep them.
func (m *Membership) memberlistConfig() *memberlist.Config {
	c := m.cfg
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	mc.BindPort = c.BindPort
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.AdvertisePort = c.AdvertisePort
	mc.SecretKey = c.SecretKey
	mc.DeadNodeReclaimTime = c.DeadNodeReclaimTime
	t := c.Timing.orLAN()
	mc.ProbeInterval, mc.ProbeTimeout, mc.GossipInterval = t.ProbeInterval, t.ProbeTimeout, t.GossipInterval
	mc.GossipNodes, mc.SuspicionMult, mc.RetransmitMult = t.GossipNodes, t.SuspicionMult, t.RetransmitMult
	mc.PushPullInterval, mc.TCPTimeout, mc.GossipToTheDeadTime = t.PushPullInterval, t.TCPTimeout, t.GossipToTheDeadTime
	d := &delegate{m}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Merge = d
	mc.Conflict = d
	mc.Logger = log.New(&logBridge{log: m.log, closed: &m.closed}, "", 0)
	return mc
}
