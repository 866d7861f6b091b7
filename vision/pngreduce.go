package vision

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errInterlaced: an Adam7 PNG cannot be reduced row by row.
var errInterlaced = errors.New("interlaced PNG")

// pngInfo is what IHDR and PLTE say about the pixels.
type pngInfo struct {
	width, height int
	depth         int // bits per sample: 1, 2, 4, 8 or 16
	colour        int // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
	interlaced    bool
	palette       []byte // RGB triples
}

// channels is the samples per pixel of the colour type.
func (h pngInfo) channels() int {
	switch h.colour {
	case 2:
		return 3
	case 4:
		return 2
	case 6:
		return 4
	}
	return 1
}

// decodePNGReduced decodes a PNG row by row into BGR pixels reduced k
// times in each direction (each output pixel the rounded mean of a k×k
// block), as OpenCV's IMREAD_COLOR would see them (alpha dropped, 16-bit
// samples cut to their high byte). It holds two rows and one row of sums,
// never the full image: a 12000×12000 PNG, 420 kB on disk, is 432 MB
// decoded in full. b has passed CheckImage.
func decodePNGReduced(b []byte, k int) (w, h int, bgr []byte, err error) {
	hd, idat, err := parsePNG(b)
	if err != nil {
		return 0, 0, nil, err
	}
	if hd.interlaced {
		return 0, 0, nil, errInterlaced
	}
	zr, err := zlib.NewReader(idat)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("PNG pixel data: %w", err)
	}
	defer zr.Close()
	w, h = (hd.width+k-1)/k, (hd.height+k-1)/k
	r := &pngRows{hd: hd, src: bufio.NewReader(zr)}
	r.init()
	bgr = make([]byte, 0, w*h*3)
	sums := make([]uint32, w*3)
	for y := 0; y < hd.height; y++ {
		if err := r.next(); err != nil {
			return 0, 0, nil, fmt.Errorf("PNG row %d: %w", y, err)
		}
		r.addTo(sums, k)
		if y%k == k-1 || y == hd.height-1 {
			bgr = emitRow(bgr, sums, hd.width, k, y%k+1)
			clear(sums)
		}
	}
	return w, h, bgr, nil
}

// emitRow appends the means of one row of k×rows blocks (the last block
// of a row may be narrower) and returns the grown slice.
func emitRow(dst []byte, sums []uint32, width, k, rows int) []byte {
	for ox := 0; ox*3 < len(sums); ox++ {
		n := uint32(min(k, width-ox*k) * rows)
		for c := 2; c >= 0; c-- { // RGB sums → BGR pixels
			dst = append(dst, byte((sums[ox*3+c]+n/2)/n))
		}
	}
	return dst
}

// parsePNG reads the header and palette and returns a reader over the
// concatenated IDAT data (slices of b, not copies).
func parsePNG(b []byte) (pngInfo, io.Reader, error) {
	var hd pngInfo
	if len(b) < 8 || !bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")) {
		return hd, nil, errors.New("not a PNG")
	}
	var idat []io.Reader
	for p := 8; p+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n < 0 || p+12+n > len(b) {
			return hd, nil, fmt.Errorf("PNG chunk %q runs past the end of the file", typ)
		}
		data := b[p+8 : p+8+n]
		switch typ {
		case "IHDR":
			if n != 13 {
				return hd, nil, errors.New("PNG header has the wrong length")
			}
			hd.width, hd.height = int(binary.BigEndian.Uint32(data)), int(binary.BigEndian.Uint32(data[4:]))
			hd.depth, hd.colour, hd.interlaced = int(data[8]), int(data[9]), data[12] == 1
		case "PLTE":
			hd.palette = data
		case "IDAT":
			idat = append(idat, bytes.NewReader(data))
		}
		p += 12 + n
	}
	if err := hd.check(); err != nil {
		return hd, nil, err
	}
	if len(idat) == 0 {
		return hd, nil, errors.New("PNG has no pixel data")
	}
	return hd, io.MultiReader(idat...), nil
}

// check refuses colour type and depth pairs the PNG standard does not
// allow (and a palette image without a palette).
func (h pngInfo) check() error {
	ok := map[int][]int{0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}[h.colour]
	valid := false
	for _, d := range ok {
		valid = valid || d == h.depth
	}
	switch {
	case h.width <= 0 || h.height <= 0:
		return errors.New("PNG header has no size")
	case !valid:
		return fmt.Errorf("PNG colour type %d with %d-bit samples is not valid", h.colour, h.depth)
	case h.colour == 3 && len(h.palette) < 3:
		return errors.New("palette PNG without a palette")
	}
	return nil
}

// pngRows reads and unfilters one row at a time.
type pngRows struct {
	hd        pngInfo
	src       *bufio.Reader
	cur, prev []byte
	bpp       int // bytes per whole pixel, at least 1 (the filters' unit)
	ch        int // samples per pixel
}

func (r *pngRows) init() {
	bits := r.hd.channels() * r.hd.depth
	n := (r.hd.width*bits + 7) / 8
	r.cur, r.prev, r.bpp, r.ch = make([]byte, n), make([]byte, n), max(1, bits/8), r.hd.channels()
}

// next reads the next row into cur (the previous one moves to prev).
func (r *pngRows) next() error {
	r.cur, r.prev = r.prev, r.cur
	f, err := r.src.ReadByte()
	if err != nil {
		return err
	}
	if _, err := io.ReadFull(r.src, r.cur); err != nil {
		return err
	}
	return unfilter(f, r.cur, r.prev, r.bpp)
}

// unfilter reverses a row's filter in place (PNG specification, section 9).
func unfilter(f byte, cur, prev []byte, bpp int) error {
	switch f {
	case 0:
	case 1:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2:
		for i := range cur {
			cur[i] += prev[i]
		}
	case 3:
		for i := range cur {
			var left byte
			if i >= bpp {
				left = cur[i-bpp]
			}
			cur[i] += byte((int(left) + int(prev[i])) / 2)
		}
	case 4:
		for i := range cur {
			var a, c byte
			if i >= bpp {
				a, c = cur[i-bpp], prev[i-bpp]
			}
			cur[i] += paeth(a, prev[i], c)
		}
	default:
		return fmt.Errorf("unknown filter type %d", f)
	}
	return nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// addTo adds the current row's 8-bit R, G, B to the sums of its k-wide
// column blocks.
func (r *pngRows) addTo(sums []uint32, k int) {
	for x := 0; x < r.hd.width; x++ {
		cr, cg, cb := r.rgb(x)
		o := (x / k) * 3
		sums[o] += uint32(cr)
		sums[o+1] += uint32(cg)
		sums[o+2] += uint32(cb)
	}
}

// rgb is pixel x of the current row as 8-bit R, G, B.
func (r *pngRows) rgb(x int) (byte, byte, byte) {
	hd, row := r.hd, r.cur
	if hd.depth < 8 { // grey or palette, several pixels a byte
		per := 8 / hd.depth
		v := row[x/per] >> (8 - hd.depth*(x%per+1)) & (1<<hd.depth - 1)
		if hd.colour == 3 {
			return r.paletteRGB(int(v))
		}
		g := v * (255 / (1<<hd.depth - 1))
		return g, g, g
	}
	step := hd.depth / 8 // 16-bit samples: their high byte
	i := x * r.ch * step
	switch hd.colour {
	case 0, 4:
		return row[i], row[i], row[i]
	case 3:
		return r.paletteRGB(int(row[i]))
	}
	return row[i], row[i+step], row[i+2*step]
}

// paletteRGB looks an index up; an index past the palette (a damaged
// file) is black.
func (r *pngRows) paletteRGB(i int) (byte, byte, byte) {
	if 3*i+2 >= len(r.hd.palette) {
		return 0, 0, 0
	}
	p := r.hd.palette[3*i:]
	return p[0], p[1], p[2]
}
