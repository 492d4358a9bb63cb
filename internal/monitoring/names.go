package monitoring

import (
	"regexp"
	"slices"
	"strings"
)

// Pending names metrics that the dashboard or the rules use before any node
// exports them, with the work that will add them. A query that returns
// nothing only because of a metric listed here is reported as pending by the
// checks, by name; any other empty query fails them. Remove an entry once
// its metric is exported.
var Pending = map[string]string{}

// identifier finds PromQL identifiers; metricNames filters them to the names
// of series (the metric names this project's files use: ringcache_*, up,
// process_*).
var identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// MetricNames lists, sorted and once each, the metric names an expression
// selects: identifiers that start with "ringcache_" or "process_", or are
// "up". It is lexical, not a parser: it skips label matchers' values
// (quoted strings) and the label names inside braces, by dropping both
// before it looks.
func MetricNames(expr string) []string {
	expr = dropQuoted(expr)
	expr = dropBraces(expr)
	var names []string
	for _, id := range identifier.FindAllString(expr, -1) {
		if strings.HasPrefix(id, "ringcache_") || strings.HasPrefix(id, "process_") || id == "up" {
			names = append(names, id)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// dropQuoted blanks "..." strings (with backslash escapes).
func dropQuoted(s string) string {
	var b strings.Builder
	in, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case in && r == '\\':
			esc = true
		case r == '"':
			in = !in
			b.WriteRune(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropBraces blanks {...} (label matchers; they do not nest).
func dropBraces(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '{':
			depth++
		case r == '}':
			depth--
			b.WriteRune(' ')
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
