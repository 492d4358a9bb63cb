// Package monitoring reads the monitoring files under deploy/ — the Grafana
// dashboard (deploy/grafana/ringcache.json) and the Prometheus rules
// (deploy/prometheus/rules.yml) — and lists the PromQL they hold, so that
// tests can check them: this package's tests check the dashboard's shape
// and parse every expression with promtool; the chaos suite evaluates every
// expression against the Prometheus of the docker-compose cluster.
//
// It parses PromQL with nothing: parsing is promtool's (the Prometheus
// module is too big a dependency for the main module), and metric names are
// found lexically (MetricNames).
package monitoring
