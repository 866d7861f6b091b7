package vision

import (
	"encoding/binary"
	"errors"
)

// errJPEGTruncated is reported when a JPEG's data ends before its
// end-of-image marker: libjpeg would silently fill the rest with grey.
var errJPEGTruncated = errors.New("JPEG ends before its end-of-image marker (truncated file)")

// checkJPEGComplete walks a JPEG's segments and entropy-coded scans until
// the end-of-image marker. Bytes after it (phone "motion photo" trailers)
// are allowed. It reads only what is there: no allocation, O(len(b)).
func checkJPEGComplete(b []byte) error {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return errors.New("no JPEG start-of-image marker")
	}
	i := 2
	for {
		// Find the next marker, skipping fill bytes.
		for i < len(b) && b[i] != 0xFF {
			i++
		}
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return errJPEGTruncated
		}
		m := b[i]
		i++
		switch {
		case m == 0xD9: // EOI
			return nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		}
		if i+2 > len(b) {
			return errJPEGTruncated
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 {
			return errors.New("JPEG segment with invalid length")
		}
		i += n
		if i > len(b) {
			return errJPEGTruncated
		}
		if m == 0xDA { // SOS: entropy-coded data follows until a non-RST marker
			for {
				for i < len(b) && b[i] != 0xFF {
					i++
				}
				if i+1 >= len(b) {
					return errJPEGTruncated
				}
				next := b[i+1]
				if next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF {
					i += 2
					if next == 0xFF {
						i-- // fill byte: look at it again
					}
					continue
				}
				break // a real marker: back to the segment loop
			}
		}
	}
}
