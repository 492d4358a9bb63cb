package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteSummary prints the runs side by side (one column per run) and then
// the ratios.
func WriteSummary(w io.Writer, runs []Run, ratios []Ratio) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(s Summary) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range runs {
			fmt.Fprintf(tw, "%s\t", f(r.Summary))
		}
		fmt.Fprintln(tw)
	}
	row("", func(s Summary) string { return s.Name })
	row("operations", func(s Summary) string { return fmt.Sprintf("%d", s.Ops) })
	row("reads / writes", func(s Summary) string { return fmt.Sprintf("%d / %d", s.Reads, s.Writes) })
	row("elapsed", func(s Summary) string { return fmt.Sprintf("%.2fs", s.Elapsed) })
	row("ops/s", func(s Summary) string { return fmt.Sprintf("%.1f", s.OpsPerSec) })
	row("read bytes/s", func(s Summary) string { return formatBytes(s.BytesPerSec) + "/s" })
	row("read avg", func(s Summary) string { return FormatMicros(s.Read.AvgUs) })
	row("read p50", func(s Summary) string { return FormatMicros(s.Read.P50Us) })
	row("read p95", func(s Summary) string { return FormatMicros(s.Read.P95Us) })
	row("read p99", func(s Summary) string { return FormatMicros(s.Read.P99Us) })
	row("read max", func(s Summary) string { return FormatMicros(s.Read.MaxUs) })
	if hasWrites(runs) {
		row("write avg / p99", func(s Summary) string {
			return FormatMicros(s.Write.AvgUs) + " / " + FormatMicros(s.Write.P99Us)
		})
	}
	row("page hit ratio", func(s Summary) string {
		if !s.HasHitRatio {
			return "-"
		}
		return fmt.Sprintf("%.1f%% (%d/%d)", 100*s.HitRatio, s.PagesHit, s.PagesHit+s.PagesMissed)
	})
	row("bytes local", func(s Summary) string { return formatBytes(float64(s.BytesLocal)) })
	row("bytes peer", func(s Summary) string { return formatBytes(float64(s.BytesPeer)) })
	row("bytes under-store", func(s Summary) string { return formatBytes(float64(s.BytesUnderstore + s.BytesDirect)) })
	row("errors", func(s Summary) string { return fmt.Sprintf("%d", s.Errors) })
	row("retries (changed)", func(s Summary) string { return fmt.Sprintf("%d", s.Retries) })
	row("stale reads", func(s Summary) string { return fmt.Sprintf("%d", s.StaleReads) })
	row("wrong bytes", func(s Summary) string { return fmt.Sprintf("%d", s.WrongBytes) })
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range runs {
		if r.Summary.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Summary.Name, r.Summary.FirstError)
		}
	}
	if len(ratios) > 0 {
		fmt.Fprintln(w)
	}
	for _, r := range ratios {
		fmt.Fprintf(w, "%s vs %s: %s throughput, %s avg latency, %s p50, %s p99", r.Run, r.Versus,
			times(r.Throughput), times(r.AvgLatency), times(r.P50), times(r.P99))
		if r.Elapsed > 0 {
			fmt.Fprintf(w, ", %s faster to finish", times(r.Elapsed))
		}
		fmt.Fprintln(w)
	}
	return nil
}

func hasWrites(runs []Run) bool {
	for _, r := range runs {
		if r.Summary.Writes > 0 {
			return true
		}
	}
	return false
}
