package node

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
)

// Read sources, the values of the `source` label (CONTRACT.md).
const (
	sourceLocal      = pagefetch.SourceLocal // "local"
	sourcePeer       = "peer"
	sourceUnderstore = "understore"
)

// metrics holds one node's Prometheus collectors in its own registry, so
// several nodes can run in one process.
type metrics struct {
	reg *prometheus.Registry

	readBytes     *prometheus.CounterVec
	hits          prometheus.Counter
	misses        prometheus.Counter
	readDuration  *prometheus.HistogramVec
	understoreReq *prometheus.CounterVec
	forwards      *prometheus.CounterVec
	replaySeconds prometheus.Gauge
	writes        *prometheus.CounterVec
	writeBytes    prometheus.Counter

	// Children of the vectors resolved once: looking a child up by its
	// label values hashes them and takes a lock on every read.
	readBytesLocal  prometheus.Counter
	readDurLocal    prometheus.Observer
	readDurPeer     prometheus.Observer
	readDurUnderstr prometheus.Observer
}

func newMetrics(n *Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.readBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcache_read_bytes_total",
		Help: "Bytes served by this node, by where it got them: local page store, another node, or the under-store.",
	}, []string{"source"})
	m.hits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringcache_cache_hits_total", Help: "Pages a read got without a request of its own: from the local page store, or from a fetch another read started.",
	})
	m.misses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringcache_cache_misses_total", Help: "Pages a read had to fetch, from a peer (warm handoff) or from the under-store.",
	})
	m.readDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ringcache_read_duration_seconds",
		Help:    "Duration of read requests served by this node, by the source of their bytes (understore if any page missed).",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"source"})
	m.understoreReq = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcache_understore_requests_total", Help: "Under-store requests by operation and result.",
	}, []string{"op", "result"})
	m.forwards = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcache_forwards_total", Help: "Reads forwarded to the owner, by result.",
	}, []string{"result"})
	m.replaySeconds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ringcache_journal_replay_seconds", Help: "Seconds the last journal replay took at start-up.",
	})
	m.writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcache_writes_total", Help: "Writes this node made to the under-store as the owner (or in its place), by operation and result.",
	}, []string{"op", "result"})
	m.writeBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ringcache_write_bytes_total", Help: "Bytes this node wrote to the under-store (Put bodies and uploaded parts) that the under-store acknowledged.",
	})
	for _, s := range []string{sourceLocal, sourcePeer, sourceUnderstore} {
		m.readBytes.WithLabelValues(s)
	}
	m.readBytesLocal = m.readBytes.WithLabelValues(sourceLocal)
	m.readDurLocal = m.readDuration.WithLabelValues(sourceLocal)
	m.readDurPeer = m.readDuration.WithLabelValues(sourcePeer)
	m.readDurUnderstr = m.readDuration.WithLabelValues(sourceUnderstore)
	m.reg.MustRegister(m.readBytes, m.hits, m.misses, m.readDuration, m.understoreReq, m.forwards, m.replaySeconds, m.writes, m.writeBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newRingCollector(n))

	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("ringcache_cache_used_bytes", "Page bytes held.", func() float64 { return float64(n.store.Stats().UsedBytes) })
	gauge("ringcache_cache_capacity_bytes", "Page bytes this node may hold.", func() float64 { return float64(n.store.Stats().CapacityBytes) })
	gauge("ringcache_cache_effective_capacity_bytes", "Page bytes this node holds at most now: --capacity, lowered when the data dir has less free space (or ran out of it).",
		func() float64 { return float64(n.store.Stats().EffectiveCapacityBytes) })
	gauge("ringcache_cache_pages", "Pages held.", func() float64 { return float64(n.store.Stats().Pages) })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ringcache_evictions_total", Help: "Pages evicted to stay under capacity or quota.",
	}, func() float64 { return float64(n.store.Stats().Evictions) }))
	gauge("ringcache_shadow_working_set_bytes", "Bytes of the distinct pages read from this node in the last --shadow-window (estimated by the shadow cache).",
		func() float64 { return float64(n.shadow.Stats().WorkingSetBytes) })
	gauge("ringcache_shadow_hit_ratio", "Hit ratio a cache holding every page read from this node in the last --shadow-window would have had over it (shadow cache).",
		func() float64 { return n.shadow.Stats().HitRatio })
	gauge("ringcache_members", "Members in this node's ring.", func() float64 {
		if r := n.ring(); r != nil {
			return float64(len(r.Members()))
		}
		return 0
	})
	return m
}

// understoreResult names the outcome of an under-store call for metrics.
func understoreResult(err error) string {
	if err == nil {
		return "ok"
	}
	return errorClass(err)
}

// countWrite counts one write to the under-store and, when it succeeded,
// its body bytes.
func (n *Node) countWrite(op string, bytes int64, err error) {
	n.metrics.writes.WithLabelValues(op, understoreResult(err)).Inc()
	if err == nil && bytes > 0 {
		n.metrics.writeBytes.Add(float64(bytes))
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
