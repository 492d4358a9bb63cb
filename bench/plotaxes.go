package bench

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// A log Y axis is drawn as a linear axis of log10(y) with ticks labelled in
// y: gonum v0.17 centres the Y axis label at the middle of the data range,
// which on its LogScale sits near the top and pushes the plot down.

// plotY maps a Y value to where it is drawn.
func plotY(y float64, logY bool) float64 {
	if logY {
		return math.Log10(y)
	}
	return y
}

// setRanges fixes the axes' ranges and tickers: X from 0 to the last point,
// Y as PlotOptions asks or fitted to the data. gonum's own fitting would
// start a linear axis at the smallest value and widen a flat series to
// [v-1, v+1], which on a log axis goes below zero.
func setRanges(p *plot.Plot, lines []Line, o PlotOptions) {
	xmax, ymin, ymax := 0.0, math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for i := range min(len(l.X), len(l.Y)) {
			if !plottable(l.X[i], l.Y[i], o.LogY) {
				continue
			}
			xmax = max(xmax, l.X[i])
			ymin, ymax = min(ymin, l.Y[i]), max(ymax, l.Y[i])
		}
	}
	p.X.Min, p.X.Max = 0, xmax
	if xmax <= 0 {
		p.X.Max = 1
	}
	format := o.Format
	if format == nil {
		format = formatG
	}
	switch {
	case o.YMax > o.YMin && (!o.LogY || o.YMin > 0):
		ymin, ymax = o.YMin, o.YMax
	case math.IsInf(ymin, 1) && o.LogY:
		ymin, ymax = 1, 10
	case math.IsInf(ymin, 1):
		ymin, ymax = 0, 1
	case o.LogY:
		ymin, ymax = niceFloor(ymin), niceCeil(ymax)
		if ymax <= ymin*(1+1e-9) {
			ymin, ymax = niceFloor(ymin/2), niceCeil(ymax*2)
		}
	default:
		// From 0, so heights compare; a little headroom over the top point.
		ymin, ymax = 0, max(ymax*1.08, 1e-9)
	}
	p.Y.Min, p.Y.Max = plotY(ymin, o.LogY), plotY(ymax, o.LogY)
	if o.LogY {
		p.Y.Tick.Marker = logTicks{format: format}
	} else {
		p.Y.Tick.Marker = linearTicks{format: format}
	}
}

// plottable reports a point the axes can show.
func plottable(x, y float64, logY bool) bool {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	return !bad(x) && !bad(y) && (!logY || y > 0)
}

// linearTicks label five to nine round values (1, 2 or 5 times a power of
// ten apart; gonum's default gives three) in the plot's format (units, k for
// thousands), with unlabelled minor ticks between them.
type linearTicks struct{ format func(float64) string }

func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	step := niceFloor((hi - lo) / 5)
	if (hi-lo)/step > 9 {
		step = niceCeil(step * 1.01) // the next of 1, 2, 5
	}
	minor := step / 2
	if m := step / math.Pow(10, math.Floor(math.Log10(step))); m > 4 {
		minor = step / 5
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / minor); i*minor <= hi*(1+1e-9)+1e-12; i++ {
		v := i * minor
		tick := plot.Tick{Value: v}
		if k := v / step; math.Abs(k-math.Round(k)) < 1e-6 {
			tick.Label = t.format(math.Round(k) * step)
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// logTicks label 1, 2 and 5 times each power of ten (only the powers when
// the range spans more than three decades) and put unlabelled minor ticks
// at the other multiples, so a reader can place a value between labels.
// The axis is in log10(y) (see plotY); the labels are in y.
type logTicks struct{ format func(float64) string }

func (t logTicks) Ticks(logLo, logHi float64) []plot.Tick {
	lo, hi := math.Pow(10, logLo), math.Pow(10, logHi)
	if hi <= lo {
		return nil
	}
	labelled := map[int]bool{1: true, 2: true, 5: true}
	if math.Log10(hi/lo) > 3 {
		labelled = map[int]bool{1: true}
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		decade := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * decade
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			tick := plot.Tick{Value: math.Log10(v)}
			if labelled[m] {
				tick.Label = t.format(v)
			}
			ticks = append(ticks, tick)
		}
	}
	return ticks
}

// formatG formats a value with at most four significant digits.
func formatG(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// spansDecades reports lines whose positive values differ more than 50x
// (cold vs warm): they need a log axis to show both.
func spansDecades(lines []Line) bool {
	lo, hi := math.Inf(1), 0.0
	for _, l := range lines {
		for _, y := range l.Y {
			if y > 0 {
				lo, hi = min(lo, y), max(hi, y)
			}
		}
	}
	return hi > 50*lo
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e*(1+1e-9) {
			return m * e
		}
	}
	return 10 * e
}

// niceFloor rounds v > 0 down to 1, 2 or 5 times a power of ten.
func niceFloor(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if v >= m*e*(1-1e-9) {
			return m * e
		}
	}
	return e
}
