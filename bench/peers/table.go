package main

import (
	"fmt"
	"io"
	"time"
)

// cell is one system's result for one row.
type cell struct {
	system string
	row    row
	res    result
}

// printTable writes one Markdown table: a line per (row, system), the
// ratio column comparing ops/s with the best peer (not ringcache) of the
// same row, and p99 likewise.
func printTable(w io.Writer, cells []cell) {
	best := map[row]cell{}
	for _, c := range cells {
		if c.system == "ringcache" {
			continue
		}
		if b, ok := best[c.row]; !ok || c.res.rate() > b.res.rate() {
			best[c.row] = c
		}
	}
	fmt.Fprintln(w, "| system | objects | ops/s | p50 | p99 | wrong bytes | errors | ops/s vs best peer | p99 vs best peer |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		vs, p99vs := "-", "-"
		if b, ok := best[c.row]; ok && b.res.rate() > 0 {
			vs = fmt.Sprintf("%.2fx (%s)", c.res.rate()/b.res.rate(), b.system)
			p99vs = fmt.Sprintf("%.2fx", float64(c.res.hist.Quantile(0.99))/float64(b.res.hist.Quantile(0.99)))
		}
		fmt.Fprintf(w, "| %s | %s x %d | %.0f | %s | %s | %d | %d | %s | %s |\n",
			c.system, sizeName(c.row.size), c.row.objects, c.res.rate(),
			ms(c.res.hist.Quantile(0.5)), ms(c.res.hist.Quantile(0.99)), c.res.wrong, c.res.errs, vs, p99vs)
	}
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
