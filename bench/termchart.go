package bench

import (
	"fmt"
	"math"
	"strings"
)

// Segment is one run's values in a terminal chart; segments are drawn one
// after the other along the time axis.
type Segment struct {
	Label  string
	Values []float64
}

// blocks are the eighth-height bars a chart column is drawn with.
var blocks = []rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// ChartOptions shape a terminal chart.
type ChartOptions struct {
	Width, Height int // columns (default 72) and rows (default 6)
	// Log makes bars grow with the logarithm of the value (latencies that
	// span decades); values <= 0 draw nothing.
	Log bool
	// Max, when > 0, is the top of the scale (1 for ratios); otherwise the
	// largest value.
	Max float64
	// Format turns a value into an axis label; default %g.
	Format func(float64) string
}

// Chart draws a bar chart of the segments in at most Width columns and
// Height rows (one row is eight levels of ▁..█), a separator column between
// segments, the scale on the left and the segment labels underneath. Pure:
// returns the text.
func Chart(title string, segs []Segment, o ChartOptions) string {
	o = o.withDefaults()
	total := 0
	for _, s := range segs {
		total += len(s.Values)
	}
	if total == 0 {
		return title + ": no data\n"
	}
	g := layout(segs, total, o.Width)
	lo, hi := g.valueRange()
	if o.Max > 0 {
		hi = o.Max
	}
	labelTop, labelBot := o.Format(hi), o.Format(0)
	if o.Log {
		labelBot = o.Format(lo / 2)
	}
	lw := max(len([]rune(labelTop)), len([]rune(labelBot)))
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	g.drawRows(&b, o.Height, lw, labelTop, labelBot, scaler(lo, hi, o.Log))
	g.drawLabels(&b, segs, lw)
	return b.String()
}

// withDefaults fills the zero fields and clamps the size to what can draw.
func (o ChartOptions) withDefaults() ChartOptions {
	if o.Width == 0 {
		o.Width = 72
	}
	if o.Height == 0 {
		o.Height = 6
	}
	if o.Format == nil {
		o.Format = func(v float64) string { return fmt.Sprintf("%g", v) }
	}
	o.Width, o.Height = max(o.Width, 10), max(o.Height, 1)
	return o
}

// chartCol is one column of a chart: a value, or the separator between two
// segments.
type chartCol struct {
	v   float64
	sep bool
}

// chartGrid is the chart's columns: per samples averaged into a column,
// each repeated rep times (short series are stretched).
type chartGrid struct {
	cols     []chartCol
	per, rep int
}

func layout(segs []Segment, total, width int) chartGrid {
	avail := width - (len(segs) - 1)
	g := chartGrid{
		per: max(1, int(math.Ceil(float64(total)/float64(max(avail, 1))))), // samples per column
		rep: min(max(1, avail/total), 8),
	}
	for i, s := range segs {
		if i > 0 {
			g.cols = append(g.cols, chartCol{sep: true})
		}
		for j := 0; j < len(s.Values); j += g.per {
			v := avg(s.Values[j:min(j+g.per, len(s.Values))])
			for range g.rep {
				g.cols = append(g.cols, chartCol{v: v})
			}
		}
	}
	return g
}

// valueRange is the smallest positive and the largest value drawn.
func (g chartGrid) valueRange() (lo, hi float64) {
	lo, hi = math.Inf(1), 0.0
	for _, c := range g.cols {
		if !c.sep {
			hi = max(hi, c.v)
			if c.v > 0 {
				lo = min(lo, c.v)
			}
		}
	}
	return lo, hi
}

// scaler maps a value to its bar height in [0, 1].
func scaler(lo, hi float64, logScale bool) func(float64) float64 {
	return func(v float64) float64 {
		if hi <= 0 || v <= 0 {
			return 0
		}
		if !logScale {
			return min(v/hi, 1)
		}
		base := lo / 2 // the smallest value still draws a bar
		return min(math.Log(v/base)/math.Log(hi/base), 1)
	}
}

// drawRows draws the bars top row first, eighths of a row per block.
func (g chartGrid) drawRows(b *strings.Builder, height, lw int, labelTop, labelBot string, scale func(float64) float64) {
	levels := height * 8
	for r := range height {
		label := ""
		switch r {
		case 0:
			label = labelTop
		case height - 1:
			label = labelBot
		}
		fmt.Fprintf(b, "%*s ┤", lw, label)
		base := (height - 1 - r) * 8
		for _, c := range g.cols {
			if c.sep {
				b.WriteRune('┊')
				continue
			}
			e := int(math.Round(scale(c.v) * float64(levels)))
			switch {
			case e >= base+8:
				b.WriteRune(blocks[8])
			case e > base:
				b.WriteRune(blocks[e-base])
			default:
				b.WriteRune(' ')
			}
		}
		b.WriteByte('\n')
	}
}

// drawLabels writes each segment's label under its columns.
func (g chartGrid) drawLabels(b *strings.Builder, segs []Segment, lw int) {
	fmt.Fprintf(b, "%*s  ", lw, "")
	for i, s := range segs {
		n := g.rep * ((len(s.Values) + g.per - 1) / g.per)
		l := s.Label
		if i > 0 {
			n++
			l = " " + l
		}
		if r := []rune(l); len(r) > n {
			l = string(r[:max(n, 0)])
		}
		b.WriteString(l + strings.Repeat(" ", n-len([]rune(l))))
	}
	b.WriteString("\n")
}

// avg is the mean of the finite values (0 when none).
func avg(vs []float64) float64 {
	sum, n := 0.0, 0
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// TerminalCharts draws p99 read latency, throughput and hit ratio over time
// for the runs, side by side along the time axis.
func TerminalCharts(runs []Run, width int) string {
	var lat, thr, hit []Segment
	for _, r := range runs {
		var l, t, h []float64
		for _, s := range r.Series {
			l = append(l, s.Read.P99Us)
			t = append(t, s.OpsPerSec)
			h = append(h, s.HitRatio)
		}
		lat = append(lat, Segment{r.Summary.Name, l})
		thr = append(thr, Segment{r.Summary.Name, t})
		if r.Summary.HasHitRatio {
			hit = append(hit, Segment{r.Summary.Name, h})
		}
	}
	var b strings.Builder
	b.WriteString(Chart("p99 read latency per second (log scale)", lat, ChartOptions{Width: width, Log: true, Format: FormatMicros}))
	b.WriteString("\n")
	thrLog := spansDecades(segLines(thr))
	title := "operations per second"
	if thrLog {
		title += " (log scale)"
	}
	b.WriteString(Chart(title, thr, ChartOptions{Width: width, Log: thrLog, Format: FormatCount}))
	if len(hit) > 0 {
		b.WriteString("\n")
		b.WriteString(Chart("page hit ratio per second", hit, ChartOptions{Width: width, Height: 4, Max: 1, Format: FormatPercent}))
	}
	return b.String()
}

func segLines(segs []Segment) []Line {
	out := make([]Line, len(segs))
	for i, s := range segs {
		out[i] = Line{Name: s.Label, Y: s.Values}
	}
	return out
}
