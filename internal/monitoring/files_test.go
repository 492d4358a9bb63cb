package monitoring

import "testing"

// The files under test, relative to this package's directory.
const (
	dashboardPath = "../../deploy/grafana/ringcache.json"
	rulesPath     = "../../deploy/prometheus/rules.yml"
)

func loadDashboard(t *testing.T) *Dashboard {
	t.Helper()
	d, err := LoadDashboard(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func loadRules(t *testing.T) *RuleFile {
	t.Helper()
	f, err := LoadRules(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
