// Mapping Config onto memberlist.Config.

package membership

import (
	"fmt"
	"log"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig maps Config onto memberlist's LAN defaults; the Timing
// fields left zero keep them.
func (m *Membership) memberlistConfig() (*memberlist.Config, error) {
	c := m.cfg
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	mc.BindPort = c.BindPort
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.AdvertisePort = c.AdvertisePort
	if keys := c.keys(); len(keys) > 0 {
		// A keyring only when there are keys: memberlist encrypts as soon
		// as its keyring holds one, so SetKeys on an unencrypted node must
		// not be able to switch encryption on under the cluster.
		kr, err := memberlist.NewKeyring(keys[1:], keys[0])
		if err != nil {
			return nil, fmt.Errorf("%w: keyring: %v", ErrConfig, err)
		}
		mc.Keyring = kr
		m.keyring = kr
	}
	mc.GossipVerifyIncoming = !c.AcceptPlaintext
	mc.GossipVerifyOutgoing = !c.SendPlaintext
	mc.Label = c.Label
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
	return mc, nil
}
