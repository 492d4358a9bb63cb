// Package msgpackcheck vets the shape of msgpack bytes from the network
// before vmihailenco/msgpack decodes them, so that decoding costs memory
// and stack in proportion to the bytes. It decodes nothing and imports
// nothing of ours.
//
// Why: vmihailenco/msgpack (v5.4.1) sizes a slice from the length in its
// array header before reading a single element (its alloc limit is never
// applied: decodeSliceValue tests flags&disableAllocLimitFlag != 1), so a
// 13-byte message claiming 16M structs allocates 1 GiB and one claiming 4G
// kills the process. A string, binary or ext header claiming more bytes
// than follow grows the pooled decoder's buffer on every call (an 8-byte
// node meta left 12 GB of heap after 100 decodes). Skipping an unknown
// field recurses once per nesting level.
package msgpackcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is msgpack that is broken, or shaped to make the decoder
// allocate or recurse far beyond its size.
var ErrMalformed = errors.New("msgpackcheck: malformed msgpack")

// Limits bound one value. Zero fields take the defaults.
type Limits struct {
	// MaxDepth bounds nesting; default and most 64.
	MaxDepth int
	// MaxContainer bounds the entries of one array or map (a map's entry
	// is a key and a value); default 1<<20.
	MaxContainer int
	// MaxItems bounds the array elements of the value in all (the
	// decoder allocates them); default 2*MaxContainer.
	MaxItems int
}

const maxDepth = 64

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 || l.MaxDepth > maxDepth {
		l.MaxDepth = maxDepth
	}
	if l.MaxContainer <= 0 {
		l.MaxContainer = 1 << 20
	}
	if l.MaxItems <= 0 {
		l.MaxItems = 2 * l.MaxContainer
	}
	return l
}

// Check walks the one msgpack value at the start of b without decoding it
// and refuses, with ErrMalformed, a value that is truncated, uses the
// reserved code 0xc1, has a string, binary or ext longer than the bytes
// left, nests deeper than MaxDepth, or has an array or map longer than
// MaxContainer, longer than the bytes left could hold (every element takes
// at least one byte), or more than MaxItems array elements in all. Bytes
// after the value are ignored, as msgpack.Unmarshal ignores them. It does
// not allocate.
func Check(b []byte, l Limits) error {
	l = l.withDefaults()
	var stack [maxDepth]int // values still to read in each open container
	depth := 0
	pending := 1 // values still to read at the current level
	items := 0
	i := 0
	for {
		for pending == 0 {
			if depth == 0 {
				return nil
			}
			depth--
			pending = stack[depth]
		}
		pending--
		if i >= len(b) {
			return fmt.Errorf("%w: truncated", ErrMalformed)
		}
		c := b[i]
		i++
		skip, n, isArray := 0, -1, false // bytes of payload; entries of a container
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			n = 2 * int(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			n, isArray = int(c&0x0f), true
		case c >= 0xa0 && c <= 0xbf:
			skip = int(c & 0x1f)
		case c == 0xc1:
			return fmt.Errorf("%w: reserved code 0xc1 at byte %d", ErrMalformed, i-1)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			skip = -1
		case c == 0xc5 || c == 0xda:
			skip = -2
		case c == 0xc6 || c == 0xdb:
			skip = -4
		case c == 0xc7: // ext8: length, type, data
			skip = -1
		case c == 0xc8:
			skip = -2
		case c == 0xc9:
			skip = -4
		case c == 0xca:
			skip = 4
		case c == 0xcb:
			skip = 8
		case c >= 0xcc && c <= 0xcf:
			skip = 1 << (c - 0xcc)
		case c >= 0xd0 && c <= 0xd3:
			skip = 1 << (c - 0xd0)
		case c >= 0xd4 && c <= 0xd8: // fixext: type, 1 to 16 bytes
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc || c == 0xde:
			n, isArray = -2, c == 0xdc
		case c == 0xdd || c == 0xdf:
			n, isArray = -4, c == 0xdd
		}
		if skip < 0 { // a length of -skip bytes comes first
			l, err := readLen(b, &i, -skip)
			if err != nil {
				return err
			}
			skip = l
			if c >= 0xc7 && c <= 0xc9 {
				skip++ // the ext type byte
			}
		}
		if n < -1 { // a count of -n bytes comes first
			l, err := readLen(b, &i, -n)
			if err != nil {
				return err
			}
			n = l
			if c == 0xde || c == 0xdf {
				n *= 2
			}
		}
		if skip > len(b)-i {
			return fmt.Errorf("%w: %d bytes wanted at byte %d, %d left", ErrMalformed, skip, i, len(b)-i)
		}
		i += skip
		if n <= 0 {
			continue
		}
		switch {
		case n > 2*l.MaxContainer || (isArray && n > l.MaxContainer):
			return fmt.Errorf("%w: %d entries in one array or map, limit %d", ErrMalformed, n, l.MaxContainer)
		case n > len(b)-i:
			return fmt.Errorf("%w: %d entries at byte %d, %d bytes left", ErrMalformed, n, i, len(b)-i)
		case depth == l.MaxDepth:
			return fmt.Errorf("%w: nested deeper than %d", ErrMalformed, l.MaxDepth)
		}
		if isArray {
			if items += n; items > l.MaxItems {
				return fmt.Errorf("%w: over %d array elements", ErrMalformed, l.MaxItems)
			}
		}
		stack[depth] = pending
		depth++
		pending = n
	}
}

// readLen reads a big-endian length of size bytes (1, 2 or 4) at b[*i].
func readLen(b []byte, i *int, size int) (int, error) {
	if size > len(b)-*i {
		return 0, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	p := b[*i:]
	*i += size
	switch size {
	case 1:
		return int(p[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(p)), nil
	default:
		return int(binary.BigEndian.Uint32(p)), nil
	}
}
