package bench

import (
	"bytes"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotEdgeCases draws what a short or failed run gives the plots (no
// lines, lines without points, one point, a flat line, values a log axis
// cannot show, NaN, unequal X and Y) and checks each PNG decodes with the
// asked size.
func TestPlotEdgeCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := map[string][]Line{
		"no lines":     nil,
		"empty line":   {{Name: "a"}},
		"one point":    {{Name: "a", X: []float64{0.5}, Y: []float64{3}}},
		"flat":         {{Name: "a", X: []float64{0.5, 1.5, 2.5}, Y: []float64{7, 7, 7}}},
		"zeros":        {{Name: "a", X: []float64{0.5, 1.5}, Y: []float64{0, 0}}},
		"gaps":         {{Name: "a", X: []float64{0.5, 1.5, 2.5, 3.5}, Y: []float64{1, nan, -1, inf}}},
		"short Y":      {{Name: "a", X: []float64{0.5, 1.5, 2.5}, Y: []float64{1}}},
		"no name":      {{X: []float64{1, 2}, Y: []float64{1, 2}}},
		"many groups":  {{Name: "a", X: []float64{1}, Y: []float64{1}, Group: "g"}, {Name: "b", X: []float64{1}, Y: []float64{2}, Group: "g"}, {Name: "c", X: []float64{1}, Y: []float64{3}, Group: "g"}, {Name: "d", X: []float64{1}, Y: []float64{4}, Group: "g"}},
		"wide decades": {{Name: "a", X: []float64{1, 2}, Y: []float64{1e-3, 1e4}}},
	}
	for name, lines := range cases {
		for _, logY := range []bool{false, true} {
			for _, o := range []PlotOptions{
				{Title: name, XLabel: "x (s)", YLabel: "y", LogY: logY},
				{LogY: logY, YMin: 0, YMax: 100, Width: 300, Height: 200, Format: FormatCount},
			} {
				img := Plot(lines, o)
				var buf bytes.Buffer
				if err := WritePNG(&buf, img); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				dec, err := png.Decode(&buf)
				if err != nil {
					t.Fatalf("%s log %v: decode: %v", name, logY, err)
				}
				w, h := o.Width, o.Height
				if w == 0 {
					w, h = 900, 420 // the defaults
				}
				if b := dec.Bounds(); b.Dx() != w || b.Dy() != h {
					t.Errorf("%s log %v: %v, want %dx%d", name, logY, b, w, h)
				}
			}
		}
	}
}

// TestWritePlotsEmptyRuns: runs with no seconds (or no runs) still write
// the charts that have lines and never panic.
func TestWritePlotsEmptyRuns(t *testing.T) {
	dir := t.TempDir()
	paths, err := WritePlots(dir, nil)
	if err != nil || len(paths) != 0 {
		t.Fatalf("no runs: %v %v", paths, err)
	}
	runs := []Run{{Summary: Summary{Name: "cold", HasHitRatio: true}}, {Summary: Summary{Name: "no-cache"}}}
	paths, err = WritePlots(dir, runs)
	if err != nil || len(paths) != 3 || paths[0] != filepath.Join(dir, "latency.png") {
		t.Fatalf("empty runs: %v %v", paths, err)
	}
}

// TestLogTicks: labels at 1, 2, 5 per decade, in the axis' log10 space.
func TestLogTicks(t *testing.T) {
	ticks := logTicks{format: formatMillis}.Ticks(math.Log10(0.2), math.Log10(50))
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	want := []string{"200 µs", "500 µs", "1 ms", "2 ms", "5 ms", "10 ms", "20 ms", "50 ms"}
	if len(labels) != len(want) {
		t.Fatalf("labels %q, want %q", labels, want)
	}
	for i := range want {
		if labels[i] != want[i] {
			t.Errorf("label %d %q, want %q", i, labels[i], want[i])
		}
	}
	if len(ticks) <= len(labels) {
		t.Error("no minor ticks")
	}
}

// TestLinearTicks: five to nine round labels, minor ticks between.
func TestLinearTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{0, 6100, []string{"0", "1000", "2000", "3000", "4000", "5000", "6000"}},
		{0, 2.5, []string{"0", "0.5", "1", "1.5", "2", "2.5"}},
		{0, 60, []string{"0", "10", "20", "30", "40", "50", "60"}},
		{0, 24.9, []string{"0", "5", "10", "15", "20"}},
		{0, 3240, []string{"0", "500", "1000", "1500", "2000", "2500", "3000"}},
		{1, 1, nil},
	} {
		var labels []string
		for _, tk := range (linearTicks{format: formatG}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if strings.Join(labels, " ") != strings.Join(c.want, " ") {
			t.Errorf("[%g, %g]: labels %q, want %q", c.lo, c.hi, labels, c.want)
		}
	}
}
