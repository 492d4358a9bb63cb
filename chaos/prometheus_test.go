//go:build chaos

package chaos

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// promPort is the compose Prometheus's port, at serviceIP(9)
// (docker-compose.yml, service prometheus).
const promPort = 9090

// prom queries the HTTP API of the compose Prometheus.
type prom struct{ base string }

var promc = &http.Client{Timeout: 10 * time.Second}

// get decodes the data field of a successful API answer into data.
func (p prom) get(path string, params url.Values, data any) error {
	resp, err := promc.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("prometheus %s: %s: %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("prometheus %s: %s: %s: %s", path, resp.Status, body.ErrorType, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// sample is one series of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix time, "value"]
}

func (s sample) float() float64 {
	v, _ := s.Value[1].(string)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// query evaluates expr now and returns its samples: an instant vector's
// series, or a scalar as one sample without labels.
func (p prom) query(expr string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var v []sample
		return v, json.Unmarshal(data.Result, &v)
	case "scalar":
		var s sample
		if err := json.Unmarshal(data.Result, &s.Value); err != nil {
			return nil, err
		}
		return []sample{s}, nil
	default:
		return nil, fmt.Errorf("query %q: result type %s, want an instant vector or a scalar", expr, data.ResultType)
	}
}

// finite counts the samples with a number (NaN is what an empty rate ratio
// or a histogram without observations gives: a panel shows nothing there).
func finite(ss []sample) int {
	n := 0
	for _, s := range ss {
		if f := s.float(); !math.IsNaN(f) {
			n++
		}
	}
	return n
}

// alert is one entry of /api/v1/alerts (pending or firing).
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (p prom) alerts() ([]alert, error) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	return data.Alerts, p.get("/api/v1/alerts", nil, &data)
}

// alertState is the state of the named alert for an instance: "firing",
// "pending", or "" when it is not active.
func (p prom) alertState(name, instance string) (string, error) {
	as, err := p.alerts()
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Labels["alertname"] == name && a.Labels["instance"] == instance {
			return a.State, nil
		}
	}
	return "", nil
}

// metricNames is every metric name Prometheus holds.
func (p prom) metricNames() (map[string]bool, error) {
	var names []string
	if err := p.get("/api/v1/label/__name__/values", nil, &names); err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m, nil
}

// instance is a node's scrape target label in deploy/prometheus/prometheus.yml.
func (n node) instance() string { return fmt.Sprintf("%s:%d", n.service, httpPort) }
