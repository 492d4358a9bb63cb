package bench

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotColors is the Tableau 10 palette, which stays apart for readers with
// the common colour-vision deficiencies.
var plotColors = []color.RGBA{
	{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {255, 127, 14, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
}

// The n-th line of a group is drawn with the n-th dash pattern and glyph.
var (
	plotDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2.5)}}
	plotGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}}
)

// markMax is the most points a line has and still gets a glyph on each:
// short runs have a handful of seconds, and a glyph shows where they are.
const markMax = 30

// linePlot is what one Line adds to a plot: its pieces and its legend entry.
type linePlot struct {
	name     string
	plotters []plot.Plotter
	thumbs   []plot.Thumbnailer
}

// linePlotters styles each line (colour by group, dash and glyph by place in
// the group) and splits it where a point cannot be shown (NaN, or <= 0 on a
// log axis), so a gap in the data is a gap in the line.
func linePlotters(lines []Line, logY bool) []linePlot {
	groupColor := map[string]int{}
	groupSeen := map[string]int{}
	next := 0
	out := make([]linePlot, 0, len(lines))
	for _, l := range lines {
		ci, place := next, 0
		if l.Group != "" {
			if c, ok := groupColor[l.Group]; ok {
				ci = c
			} else {
				groupColor[l.Group] = next
				next++
			}
			place = groupSeen[l.Group] % len(plotDashes)
			groupSeen[l.Group]++
		} else {
			next++
		}
		c := plotColors[ci%len(plotColors)]
		ls := draw.LineStyle{Color: c, Width: vg.Points(1.6), Dashes: plotDashes[place]}
		gs := draw.GlyphStyle{Color: c, Radius: vg.Points(2.6), Shape: plotGlyphs[place]}
		lp := linePlot{name: l.Name, thumbs: []plot.Thumbnailer{&plotter.Line{LineStyle: ls}}}
		segs := segments(l, logY)
		marks := false
		for _, seg := range segs {
			marks = marks || len(seg) == 1
		}
		if n := min(len(l.X), len(l.Y)); n <= markMax {
			marks = true
		}
		for _, seg := range segs {
			if len(seg) > 1 {
				lp.plotters = append(lp.plotters, &plotter.Line{XYs: seg, LineStyle: ls})
			}
			if marks {
				lp.plotters = append(lp.plotters, &plotter.Scatter{XYs: seg, GlyphStyle: gs})
			}
		}
		if marks {
			lp.thumbs = append(lp.thumbs, &plotter.Scatter{GlyphStyle: gs})
		}
		out = append(out, lp)
	}
	return out
}

// segments cuts a line into runs of consecutive plottable points.
func segments(l Line, logY bool) []plotter.XYs {
	var segs []plotter.XYs
	var cur plotter.XYs
	for i := range min(len(l.X), len(l.Y)) {
		if !plottable(l.X[i], l.Y[i], logY) {
			if len(cur) > 0 {
				segs = append(segs, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: l.X[i], Y: plotY(l.Y[i], logY)})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}
