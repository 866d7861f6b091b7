package eval

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
)

// WritePNG draws the same histogram as WriteSVG as a PNG, without text
// (the standard library has no font): green genuine and red impostor bars,
// the rule's threshold solid, the calibrated one dashed.
func WritePNG(w io.Writer, m *ModelReport) error {
	p := newPlot(m)
	img := image.NewRGBA(image.Rect(0, 0, svgW, svgH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	red := image.NewUniform(color.NRGBA{0xd6, 0x27, 0x28, 0x80})
	green := image.NewUniform(color.NRGBA{0x2c, 0xa0, 0x2c, 0x80})
	for i := range histBins {
		x0 := int(padL + float64(i)*p.barW())
		x1 := int(padL + float64(i+1)*p.barW())
		draw.Draw(img, image.Rect(x0, int(p.y(p.imp[i])), x1, int(p.y(0))), red, image.Point{}, draw.Over)
		draw.Draw(img, image.Rect(x0, int(p.y(p.gen[i])), x1, int(p.y(0))), green, image.Point{}, draw.Over)
	}
	black := image.Black
	draw.Draw(img, image.Rect(padL, int(p.y(0)), svgW-padR, int(p.y(0))+1), black, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(padL-1, padT, padL, int(p.y(0))), black, image.Point{}, draw.Src)
	vline(img, p.x(p.rule), 0)
	if !math.IsNaN(p.cal) {
		vline(img, p.x(p.cal), 6)
	}
	return png.Encode(w, img)
}

// vline draws a 2-px vertical line over the plot area, dashed with dash-px
// segments when dash > 0.
func vline(img *image.RGBA, x float64, dash int) {
	for y := padT; y < svgH-padB; y++ {
		if dash > 0 && (y-padT)/dash%2 == 1 {
			continue
		}
		img.Set(int(x), y, color.Black)
		img.Set(int(x)+1, y, color.Black)
	}
}
