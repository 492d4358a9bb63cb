package bench

import "fmt"

// The formatters of the numbers a person reads: the summary table, the
// terminal charts and the tick labels of the PNG plots.

// FormatMicros formats a latency given in microseconds.
func FormatMicros(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fms", v/1e3)
	default:
		return fmt.Sprintf("%.0fµs", v)
	}
}

// FormatCount formats a rate like 12.3k.
func FormatCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// FormatPercent formats a ratio in [0, 1].
func FormatPercent(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

// formatBytes formats a byte count with binary units.
func formatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", v, units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

// formatMillis formats a latency given in milliseconds, with the unit that
// keeps the number short: tick labels of the latency plot.
func formatMillis(v float64) string {
	switch {
	case v >= 1e3:
		return fmt.Sprintf("%.3g s", v/1e3)
	case v >= 1:
		return fmt.Sprintf("%.3g ms", v)
	default:
		return fmt.Sprintf("%.3g µs", v*1e3)
	}
}

// times formats a ratio as "12.3x" ("-" when undefined).
func times(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	default:
		return fmt.Sprintf("%.1fx", v)
	}
}
