package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// UnderstoreMeter counts the bytes the cluster's nodes have read from the
// under-store so far. A read through the S3 gateway does not report where
// its bytes came from, so the write-through workload takes this counter
// before and after each read: no change means the read was a hit.
type UnderstoreMeter interface {
	UnderstoreBytes(ctx context.Context) (int64, error)
}

// understoreMetric is the series MetricsMeter sums (CONTRACT.md metrics).
const understoreMetric = "ringcache_read_bytes_total"

// MetricsMeter sums ringcache_read_bytes_total{source="understore"} over
// the nodes' /metrics at the given HTTP addresses (host:port, plain HTTP).
// hc nil means http.DefaultClient.
func MetricsMeter(httpAddrs []string, hc *http.Client) UnderstoreMeter {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &metricsMeter{addrs: append([]string(nil), httpAddrs...), hc: hc}
}

type metricsMeter struct {
	addrs []string
	hc    *http.Client
}

func (m *metricsMeter) UnderstoreBytes(ctx context.Context) (int64, error) {
	var total int64
	for _, a := range m.addrs {
		n, err := m.scrape(ctx, a)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func (m *metricsMeter) scrape(ctx context.Context, addr string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: metrics of %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: metrics of %s: %s", addr, resp.Status)
	}
	n, err := UnderstoreBytesOf(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("bench: metrics of %s: %w", addr, err)
	}
	return n, nil
}

// errNoSeries: the exposition lacks the under-store series (not a node).
var errNoSeries = errors.New(`no ringcache_read_bytes_total{source="understore"} series`)

// UnderstoreBytesOf reads a Prometheus text exposition and returns the
// value of ringcache_read_bytes_total{source="understore"}.
func UnderstoreBytesOf(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, understoreMetric+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !hasLabel(labels, "source", "understore") {
			continue
		}
		value, _, _ = strings.Cut(strings.TrimSpace(value), " ") // a timestamp may follow
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad value in %q", line)
		}
		return int64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errNoSeries
}

// hasLabel reports whether a label list (a="x",b="y") has name="value".
// Values of this series are plain words, so no escapes are decoded.
func hasLabel(labels, name, value string) bool {
	for _, l := range strings.Split(labels, ",") {
		if strings.TrimSpace(l) == name+`="`+value+`"` {
			return true
		}
	}
	return false
}
