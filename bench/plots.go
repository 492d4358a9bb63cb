package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// plotFile is one PNG of WritePlots: its file name, lines and options.
type plotFile struct {
	name  string
	lines []Line
	o     PlotOptions
}

// timeLabel names the X axis of every plot: each point is the middle of a
// one-second window of the run.
const timeLabel = "time since the run started (s)"

// WritePlots writes latency.png, throughput.png and hitratio.png of the runs
// into dir (created if missing) and returns their paths. A chart with no
// lines (hit ratio when no run has one) is not written.
func WritePlots(dir string, runs []Run) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range []plotFile{latencyPlot(runs), throughputPlot(runs), hitRatioPlot(runs)} {
		if len(p.lines) == 0 {
			continue
		}
		path := filepath.Join(dir, p.name)
		if err := writePlot(path, p); err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

func writePlot(path string, p plotFile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = WritePNG(f, Plot(p.lines, p.o))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	return nil
}

// windowMiddles are the X values of a run's series.
func windowMiddles(r Run) []float64 {
	x := make([]float64, len(r.Series))
	for i, s := range r.Series {
		x[i] = s.T - s.Dur/2
	}
	return x
}

// latencyPlot: p50 (solid) and p99 (dashed) per second of each run, one
// colour per run, on a log axis: a cache hit and an under-store read differ
// by orders of magnitude.
func latencyPlot(runs []Run) plotFile {
	var lines []Line
	for _, r := range runs {
		p50 := make([]float64, len(r.Series))
		p99 := make([]float64, len(r.Series))
		for i, s := range r.Series {
			p50[i], p99[i] = s.Read.P50Us/1e3, s.Read.P99Us/1e3
		}
		n, x := r.Summary.Name, windowMiddles(r)
		lines = append(lines, Line{Name: n + " p50", X: x, Y: p50, Group: n}, Line{Name: n + " p99", X: x, Y: p99, Group: n})
	}
	return plotFile{"latency.png", lines, PlotOptions{
		Title:  "Read latency per second: p50 (solid) and p99 (dashed)",
		XLabel: timeLabel, YLabel: "read latency (log scale)", LogY: true, Format: formatMillis,
	}}
}

// throughputPlot: operations per second of each run; log when the runs
// differ by more than 50x (cache vs no cache), linear otherwise.
func throughputPlot(runs []Run) plotFile {
	var lines []Line
	for _, r := range runs {
		ops := make([]float64, len(r.Series))
		for i, s := range r.Series {
			ops[i] = s.OpsPerSec
		}
		lines = append(lines, Line{Name: r.Summary.Name, X: windowMiddles(r), Y: ops})
	}
	o := PlotOptions{Title: "Throughput per second", XLabel: timeLabel, YLabel: "operations per second", Format: countTick}
	if o.LogY = spansDecades(lines); o.LogY {
		o.YLabel += " (log scale)"
	}
	return plotFile{"throughput.png", lines, o}
}

// countTick is FormatCount without a ".0" ("2k", not "2.0k"): tick values
// are round.
func countTick(v float64) string { return strings.Replace(FormatCount(v), ".0", "", 1) }

// hitRatioPlot: the share of pages served from the cache per second, for
// the runs that have one (not the no-cache baseline).
func hitRatioPlot(runs []Run) plotFile {
	var lines []Line
	for _, r := range runs {
		if !r.Summary.HasHitRatio {
			continue
		}
		hr := make([]float64, len(r.Series))
		for i, s := range r.Series {
			hr[i] = 100 * s.HitRatio
		}
		lines = append(lines, Line{Name: r.Summary.Name, X: windowMiddles(r), Y: hr})
	}
	return plotFile{"hitratio.png", lines, PlotOptions{
		Title: "Page hit ratio per second", XLabel: timeLabel, YLabel: "pages hit (%)",
		YMin: 0, YMax: 100, Format: func(v float64) string { return formatG(v) + "%" },
	}}
}
