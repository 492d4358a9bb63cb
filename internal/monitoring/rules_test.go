package monitoring

import (
	"slices"
	"testing"
)

// Every alert of rules.yml has a severity and the two annotations, and the
// alerts issue 15 asks for are all there.
func TestRulesAnnotated(t *testing.T) {
	want := []string{"RingcacheNodeDown", "RingcacheRingNotConverged", "RingcacheHitRatioFalling",
		"RingcacheUnderstoreErrors", "RingcacheCacheNearCapacity", "RingcacheJournalReplaySlow", "RingcacheCertificateExpiring"}
	var alerts []string
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description annotations are required", r.Alert)
			}
		}
	}
	for _, a := range want {
		if !slices.Contains(alerts, a) {
			t.Errorf("alert %s missing from %s", a, rulesPath)
		}
	}
}
