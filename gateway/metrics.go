package gateway

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's collectors (CONTRACT.md: op is the S3
// operation name, code the HTTP status).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  prometheus.Counter
	bytesOut prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcache_s3_requests_total", Help: "S3 gateway requests by operation and HTTP status.",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ringcache_s3_request_duration_seconds", Help: "S3 gateway request duration (to the last byte sent) by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
	}
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcache_s3_bytes_total", Help: "S3 gateway body bytes: in (request bodies) and out (response bodies).",
	}, []string{"direction"})
	m.bytesIn, m.bytesOut = bytes.WithLabelValues("in"), bytes.WithLabelValues("out")
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, bytes} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("gateway: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(q *request, start time.Time) {
	m.requests.WithLabelValues(q.rt.op, strconv.Itoa(q.status)).Inc()
	m.duration.WithLabelValues(q.rt.op).Observe(time.Since(start).Seconds())
	if q.bytesOut > 0 {
		m.bytesOut.Add(float64(q.bytesOut))
	}
	if q.bytesIn > 0 {
		m.bytesIn.Add(float64(q.bytesIn))
	}
}
