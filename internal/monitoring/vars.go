package monitoring

import "strings"

// queryVars are the values the dashboard's variables take when its
// expressions are sent to Prometheus outside Grafana: every node of the
// "ringcache" job (the compose cluster's), and a rate interval of four
// 5-second scrapes with room to spare.
var queryVars = []struct{ name, value string }{
	// Longest names first: $__rate_interval before $__range and $__interval.
	{"$__rate_interval", "1m"},
	{"$__interval", "15s"},
	{"$__range", "5m"},
	{"$instance", ".*"},
	{"$job", "ringcache"},
}

// Instantiate replaces the dashboard's variables in expr with their values
// for a query against Prometheus. An expression still containing a "$"
// afterwards uses a variable this package does not know.
func Instantiate(expr string) string {
	for _, v := range queryVars {
		expr = strings.ReplaceAll(expr, v.name, v.value)
	}
	return expr
}
