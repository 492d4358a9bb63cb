package monitoring

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`up{job="ringcache"} == 0`: {"up"},
		`sum by (instance) (rate(ringcache_cache_hits_total{instance=~"ringcache_x|up"}[1m])) / on (instance) process_start_time_seconds`: {
			"process_start_time_seconds", "ringcache_cache_hits_total"},
		`histogram_quantile(0.99, sum by (le) (rate(ringcache_read_duration_seconds_bucket{a="b\"ringcache_q"}[5m])))`: {"ringcache_read_duration_seconds_bucket"},
		`count(count by (version) (ringcache_ring_version_info)) > 1 or max(ringcache_members) != min(ringcache_members)`: {
			"ringcache_members", "ringcache_ring_version_info"},
	} {
		if got := MetricNames(expr); !slices.Equal(got, want) {
			t.Errorf("MetricNames(%q) = %v, want %v", expr, got, want)
		}
	}
}

func TestInstantiate(t *testing.T) {
	got := Instantiate(`rate(x{job=~"$job",instance=~"$instance"}[$__rate_interval]) + increase(y[$__range]) + z[$__interval]`)
	want := `rate(x{job=~"ringcache",instance=~".*"}[1m]) + increase(y[5m]) + z[15s]`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
