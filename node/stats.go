package node

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ringcache/ringcache/transport"
)

// selfStats is what this node reports about itself in Members and on the
// status page: the values /metrics would show now.
func (n *Node) selfStats() *transport.NodeStats {
	st := n.store.Stats()
	sh := n.shadow.Stats()
	m := n.metrics
	return &transport.NodeStats{
		PagesHit:              counterValue(m.hits),
		PagesMissed:           counterValue(m.misses),
		BytesLocal:            counterValue(m.readBytesLocal),
		BytesPeer:             counterValue(m.readBytes.WithLabelValues(sourcePeer)),
		BytesUnderstore:       counterValue(m.readBytes.WithLabelValues(sourceUnderstore)),
		UsedBytes:             st.UsedBytes,
		CapacityBytes:         st.CapacityBytes,
		Pages:                 st.Pages,
		ShadowWindow:          sh.Window,
		ShadowWorkingSetBytes: sh.WorkingSetBytes,
		ShadowHitRatio:        sh.HitRatio,
	}
}

// counterValue reads a counter the way a scrape does (counters hold whole
// numbers here: pages and bytes).
func counterValue(c prometheus.Counter) int64 {
	var pb dto.Metric
	if err := c.Write(&pb); err != nil || pb.Counter == nil {
		return 0
	}
	return int64(pb.Counter.GetValue())
}
