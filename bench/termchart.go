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
	l := layoutColumns(segs, total, o.Width)
	sc := scaleOf(l.cols, o)
	labelTop, labelBot := o.Format(sc.hi), o.Format(0)
	if sc.log {
		labelBot = o.Format(sc.lo / 2)
	}
	lw := max(len([]rune(labelTop)), len([]rune(labelBot)))
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	writeBars(&b, l.cols, sc, o.Height, lw, labelTop, labelBot)
	writeSegmentLabels(&b, segs, l, lw)
	return b.String()
}

// withDefaults fills the zero fields and clamps the size to what a chart
// can be drawn in.
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

// chartCol is one column of a chart: a value, or the separator between
// two segments.
type chartCol struct {
	v   float64
	sep bool
}

// chartLayout is how the samples map to columns: per samples are averaged
// into one column, and each column is drawn rep times.
type chartLayout struct {
	cols     []chartCol
	per, rep int
}

// layoutColumns fits total samples into width columns (less one separator
// between segments): long series are averaged down, short ones stretched
// (up to 8 columns a sample) so they do not huddle at the left.
func layoutColumns(segs []Segment, total, width int) chartLayout {
	avail := width - (len(segs) - 1)
	l := chartLayout{
		per: max(1, int(math.Ceil(float64(total)/float64(max(avail, 1))))),
		rep: min(max(1, avail/total), 8),
	}
	for i, s := range segs {
		if i > 0 {
			l.cols = append(l.cols, chartCol{sep: true})
		}
		for j := 0; j < len(s.Values); j += l.per {
			v := avg(s.Values[j:min(j+l.per, len(s.Values))])
			for range l.rep {
				l.cols = append(l.cols, chartCol{v: v})
			}
		}
	}
	return l
}

// chartScale maps a value to the fraction 0..1 of the chart's height.
type chartScale struct {
	lo, hi float64 // smallest positive and largest value (hi may be Max)
	log    bool
}

func scaleOf(cols []chartCol, o ChartOptions) chartScale {
	sc := chartScale{lo: math.Inf(1), log: o.Log}
	for _, c := range cols {
		if !c.sep {
			sc.hi = max(sc.hi, c.v)
			if c.v > 0 {
				sc.lo = min(sc.lo, c.v)
			}
		}
	}
	if o.Max > 0 {
		sc.hi = o.Max
	}
	return sc
}

func (sc chartScale) frac(v float64) float64 {
	if sc.hi <= 0 || v <= 0 {
		return 0
	}
	if !sc.log {
		return min(v/sc.hi, 1)
	}
	base := sc.lo / 2 // the smallest value still draws a bar
	return min(math.Log(v/base)/math.Log(sc.hi/base), 1)
}

// writeBars draws the rows top to bottom, the top and bottom of the scale
// labelled on the left in lw runes.
func writeBars(b *strings.Builder, cols []chartCol, sc chartScale, height, lw int, labelTop, labelBot string) {
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
		for _, c := range cols {
			if c.sep {
				b.WriteRune('┊')
				continue
			}
			e := int(math.Round(sc.frac(c.v) * float64(levels)))
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

// writeSegmentLabels writes each segment's label under its columns, cut
// to fit them.
func writeSegmentLabels(b *strings.Builder, segs []Segment, l chartLayout, lw int) {
	fmt.Fprintf(b, "%*s  ", lw, "")
	for i, s := range segs {
		n := l.rep * ((len(s.Values) + l.per - 1) / l.per)
		label := s.Label
		if i > 0 {
			n++ // the separator column
			label = " " + label
		}
		if r := []rune(label); len(r) > n {
			label = string(r[:max(n, 0)])
		}
		b.WriteString(label + strings.Repeat(" ", n-len([]rune(label))))
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
