package bench

import (
	"image"
	imgdraw "image/draw"
	"image/png"
	"io"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Line is one series of a plot.
type Line struct {
	Name string
	X, Y []float64
	// Group, when not empty, gives the lines of one run one colour: the
	// first line of a group is solid, the next dashed, then dotted (p50 and
	// p99 of one run). Lines without a group each get a colour of their own.
	Group string
}

// PlotOptions describe one PNG plot.
type PlotOptions struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes (with
	// their unit, unless the tick labels carry it).
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

// plotDPI is the resolution the plots are drawn at: 12 pt text is 16 pixels.
const plotDPI = 96

// Plot draws the lines with gonum/plot: axes with ticks and labels, a grid,
// a title and a legend to the right of the axes. Pure: it returns the image.
// No data (or no value a log axis can show) draws empty axes.
func Plot(lines []Line, o PlotOptions) *image.RGBA {
	if o.Width <= 0 {
		o.Width = 900
	}
	if o.Height <= 0 {
		o.Height = 420
	}
	p := plot.New()
	styleText(p)
	p.Title.Text = o.Title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text, p.Y.Label.Text = o.XLabel, o.YLabel
	p.X.Tick.Marker = linearTicks{format: formatG}
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.TextStyle.Font.Variant = "Sans"
	legend.TextStyle.Font.Size = vg.Points(11)
	legend.Padding = vg.Points(3)
	legend.ThumbnailWidth = vg.Points(28)
	for _, pl := range linePlotters(lines, o.LogY) {
		p.Add(pl.plotters...)
		if pl.name != "" {
			legend.Add(pl.name, pl.thumbs...)
		}
	}
	setRanges(p, lines, o)

	inch := func(px int) vg.Length { return vg.Length(px) / plotDPI * vg.Inch }
	c := vgimg.NewWith(vgimg.UseWH(inch(o.Width), inch(o.Height)), vgimg.UseDPI(plotDPI))
	dc := draw.Crop(draw.New(c), vg.Points(6), -vg.Points(10), vg.Points(4), -vg.Points(8))
	if len(lines) > 0 && legend.Rectangle(dc).Size().X > 0 {
		// The legend gets its own column so it never hides a line.
		gap := vg.Points(12)
		lw := legend.Rectangle(dc).Size().X
		p.Draw(draw.Crop(dc, 0, -(lw + gap), 0, 0))
		top := p.Title.TextStyle.Rectangle(o.Title).Size().Y + p.Title.Padding
		legend.Top, legend.Left = true, true
		legend.Draw(draw.Crop(dc, dc.Size().X-lw, 0, 0, -top))
	} else {
		p.Draw(dc)
	}
	return toRGBA(c.Image())
}

// styleText sets a sans-serif face on every text of the plot (gonum's
// default is serif) and a bold, larger title.
func styleText(p *plot.Plot) {
	sans := func(f *font.Font) { f.Variant = "Sans" }
	sans(&p.Title.TextStyle.Font)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Title.TextStyle.Font.Size = vg.Points(14)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		sans(&a.Label.TextStyle.Font)
		sans(&a.Tick.Label.Font)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
}

// toRGBA returns img as an *image.RGBA (vgimg draws into one).
func toRGBA(img image.Image) *image.RGBA {
	if rgba, ok := img.(*image.RGBA); ok {
		return rgba
	}
	out := image.NewRGBA(img.Bounds())
	imgdraw.Draw(out, out.Bounds(), img, img.Bounds().Min, imgdraw.Src)
	return out
}

// WritePNG encodes img.
func WritePNG(w io.Writer, img image.Image) error { return png.Encode(w, img) }
