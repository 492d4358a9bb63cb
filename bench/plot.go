package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Line is one series of a plot.
type Line struct {
	Name string
	X, Y []float64
}

// PlotOptions describe one PNG plot.
type PlotOptions struct {
	Title, XLabel, YLabel string
	// LogY plots Y on a log10 axis (points <= 0 are left out).
	LogY bool
	// YMin, YMax fix the Y range when YMax > YMin; otherwise it fits the
	// data (from 0 on a linear axis).
	YMin, YMax float64
	// Format turns a Y value into a tick label; default %g.
	Format        func(float64) string
	Width, Height int // pixels; default 900x420
}

var (
	plotBG     = color.RGBA{255, 255, 255, 255}
	plotInk    = color.RGBA{30, 30, 30, 255}
	plotGrid   = color.RGBA{225, 225, 225, 255}
	plotColors = []color.RGBA{
		{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
	}
)

// Plot draws the lines on axes with ticks, a title and a legend. Pure: it
// returns the image.
func Plot(lines []Line, o PlotOptions) *image.RGBA {
	if o.Width == 0 {
		o.Width = 900
	}
	if o.Height == 0 {
		o.Height = 420
	}
	if o.Format == nil {
		o.Format = func(v float64) string { return fmt.Sprintf("%g", v) }
	}
	img := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	draw.Draw(img, img.Bounds(), &image.Uniform{plotBG}, image.Point{}, draw.Src)
	left, right, top, bottom := 90, o.Width-20, 36, o.Height-46
	drawText(img, (o.Width-textWidth(o.Title))/2, 10, o.Title, plotInk)

	// Ranges.
	xmax, ymin, ymax := 0.0, math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for i := range l.X {
			xmax = max(xmax, l.X[i])
			y := l.Y[i]
			if o.LogY && y <= 0 || math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			ymin, ymax = min(ymin, y), max(ymax, y)
		}
	}
	if xmax <= 0 {
		xmax = 1
	}
	switch {
	case o.YMax > o.YMin:
		ymin, ymax = o.YMin, o.YMax
	case math.IsInf(ymin, 1):
		ymin, ymax = 0, 1
	case o.LogY:
		ymin, ymax = math.Pow(10, math.Floor(math.Log10(ymin))), math.Pow(10, math.Ceil(math.Log10(ymax)))
		if ymax <= ymin {
			ymax = ymin * 10
		}
	default:
		ymin = 0
		ymax = niceCeil(ymax)
	}
	ty := func(y float64) int {
		f := (y - ymin) / (ymax - ymin)
		if o.LogY {
			f = math.Log10(y/ymin) / math.Log10(ymax/ymin)
		}
		return bottom - int(math.Round(f*float64(bottom-top)))
	}
	tx := func(x float64) int { return left + int(math.Round(x/xmax*float64(right-left))) }

	// Grid and Y ticks.
	var yticks []float64
	if o.LogY {
		for v := ymin; v <= ymax*1.0001; v *= 10 {
			yticks = append(yticks, v)
		}
	} else {
		step := niceCeil((ymax - ymin) / 5)
		for v := ymin; v <= ymax*1.0001; v += step {
			yticks = append(yticks, v)
		}
	}
	for _, v := range yticks {
		y := ty(v)
		hline(img, left, right, y, plotGrid)
		l := o.Format(v)
		drawText(img, left-8-textWidth(l), y-textHeight/2, l, plotInk)
	}
	xstep := niceCeil(xmax / 8)
	for v := 0.0; v <= xmax*1.0001; v += xstep {
		x := tx(v)
		vline(img, x, top, bottom, plotGrid)
		l := fmt.Sprintf("%g", v)
		drawText(img, x-textWidth(l)/2, bottom+8, l, plotInk)
	}
	hline(img, left, right, bottom, plotInk)
	vline(img, left, top, bottom, plotInk)
	drawText(img, (left+right-textWidth(o.XLabel))/2, bottom+26, o.XLabel, plotInk)
	drawText(img, 6, top-textHeight-8, o.YLabel, plotInk)

	// Lines, clipped to the plot area.
	clip := img.SubImage(image.Rect(left, top-1, right+1, bottom+1)).(*image.RGBA)
	for i, l := range lines {
		c := plotColors[i%len(plotColors)]
		havePrev := false
		var px, py int
		for j := range l.X {
			y := l.Y[j]
			if o.LogY && y <= 0 || math.IsNaN(y) || math.IsInf(y, 0) {
				havePrev = false
				continue
			}
			x, yy := tx(l.X[j]), ty(y)
			if havePrev {
				thickLine(clip, px, py, x, yy, c)
			} else {
				dot(clip, x, yy, c)
			}
			px, py, havePrev = x, yy, true
		}
	}
	// Legend, top right inside the axes.
	lw := 0
	for _, l := range lines {
		lw = max(lw, textWidth(l.Name))
	}
	lx, ly := right-lw-40, top+8
	if len(lines) > 0 {
		box := image.Rect(lx-6, ly-5, right-4, ly+len(lines)*(textHeight+6))
		draw.Draw(img, box, &image.Uniform{plotBG}, image.Point{}, draw.Src)
	}
	for i, l := range lines {
		c := plotColors[i%len(plotColors)]
		y := ly + i*(textHeight+6)
		for d := range 3 {
			hline(img, lx, lx+20, y+textHeight/2-1+d, c)
		}
		drawText(img, lx+28, y, l.Name, plotInk)
	}
	return img
}

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

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

func dot(img *image.RGBA, x, y int, c color.Color) {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			img.Set(x+dx, y+dy, c)
		}
	}
}

// thickLine draws a 2-pixel line (Bresenham).
func thickLine(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0+1, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// WritePNG encodes img.
func WritePNG(w io.Writer, img image.Image) error { return png.Encode(w, img) }

// WritePlots writes latency.png, throughput.png and hitratio.png of the runs
// into dir (created if missing) and returns their paths.
func WritePlots(dir string, runs []Run) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lat, thr, hit []Line
	for _, r := range runs {
		var x, p50, p99, ops, hr []float64
		for _, s := range r.Series {
			x = append(x, s.T-s.Dur/2) // the middle of the window
			p50 = append(p50, s.Read.P50Us/1e3)
			p99 = append(p99, s.Read.P99Us/1e3)
			ops = append(ops, s.OpsPerSec)
			hr = append(hr, 100*s.HitRatio)
		}
		n := r.Summary.Name
		lat = append(lat, Line{n + " p50", x, p50}, Line{n + " p99", x, p99})
		thr = append(thr, Line{n, x, ops})
		if r.Summary.HasHitRatio {
			hit = append(hit, Line{n, x, hr})
		}
	}
	ms := func(v float64) string {
		if v < 1 {
			return fmt.Sprintf("%gus", math.Round(v*1e3))
		}
		return fmt.Sprintf("%gms", v)
	}
	plots := []struct {
		name  string
		lines []Line
		o     PlotOptions
	}{
		{"latency.png", lat, PlotOptions{Title: "read latency per second (p50, p99)", XLabel: "seconds since the run started", YLabel: "latency", LogY: true, Format: ms}},
		{"throughput.png", thr, PlotOptions{Title: "operations per second", XLabel: "seconds since the run started", YLabel: "ops/s", Format: FormatCount, LogY: spansDecades(thr)}},
		{"hitratio.png", hit, PlotOptions{Title: "page hit ratio per second", XLabel: "seconds since the run started", YLabel: "hit %", YMin: 0, YMax: 100, Format: func(v float64) string { return fmt.Sprintf("%g%%", v) }}},
	}
	var out []string
	for _, p := range plots {
		if len(p.lines) == 0 {
			continue
		}
		path := filepath.Join(dir, p.name)
		f, err := os.Create(path)
		if err != nil {
			return out, err
		}
		err = WritePNG(f, Plot(p.lines, p.o))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}
