package node

import "github.com/prometheus/client_golang/prometheus"

// ringCollector exports the ring this node routes by, so that Prometheus can
// tell whether every node routes by the same ring (the
// RingcacheRingNotConverged alert of deploy/prometheus/rules.yml):
//
//   - ringcache_ring_version_info{version="<16 hex digits>"} 1: the version
//     of GET /v1/members (a hash of the members and ring parameters; equal
//     versions mean equal owners for every path). A value label, not a gauge
//     value, because a 64-bit hash does not survive a float64.
//   - ringcache_ring_changes_total: rebuilds on this node that produced a new
//     ring version (joins, leaves, failures it saw).
//
// It reads the membership at scrape time, so it holds no state of its own.
type ringCollector struct {
	n       *Node
	version *prometheus.Desc
	changes *prometheus.Desc
}

func newRingCollector(n *Node) *ringCollector {
	return &ringCollector{
		n: n,
		version: prometheus.NewDesc("ringcache_ring_version_info",
			"The version of the ring this node routes by (label version; the value is always 1). Nodes with equal versions agree on every owner.",
			[]string{"version"}, nil),
		changes: prometheus.NewDesc("ringcache_ring_changes_total",
			"Ring rebuilds on this node that produced a new ring version.", nil, nil),
	}
}

func (c *ringCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.version
	ch <- c.changes
}

func (c *ringCollector) Collect(ch chan<- prometheus.Metric) {
	// Before the node has joined there is no ring to report.
	if r := c.n.ring(); r != nil {
		ch <- prometheus.MustNewConstMetric(c.version, prometheus.GaugeValue, 1, r.VersionString())
	}
	var changes uint64
	if c.n.members != nil {
		changes = c.n.members.Stats().RingChanges
	}
	ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue, float64(changes))
}
