// Mapping Config onto memberlist.Config.

package membership

import (
	"log"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig maps Config onto memberlist's LAN defaults.
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
	setDur(&mc.ProbeInterval, c.ProbeInterval)
	setDur(&mc.ProbeTimeout, c.ProbeTimeout)
	setDur(&mc.GossipInterval, c.GossipInterval)
	setDur(&mc.PushPullInterval, c.PushPullInterval)
	setDur(&mc.TCPTimeout, c.TCPTimeout)
	setDur(&mc.GossipToTheDeadTime, c.GossipToTheDeadTime)
	setInt(&mc.GossipNodes, c.GossipNodes)
	setInt(&mc.SuspicionMult, c.SuspicionMult)
	setInt(&mc.RetransmitMult, c.RetransmitMult)
	d := &delegate{m}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Merge = d
	mc.Conflict = d
	mc.Logger = log.New(&logBridge{log: m.log, closed: &m.closed}, "", 0)
	return mc
}

func setDur(dst *time.Duration, v time.Duration) {
	if v > 0 {
		*dst = v
	}
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}
