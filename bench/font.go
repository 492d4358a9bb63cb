package bench

import (
	"image"
	"image/color"
	"unicode"
)

// glyphs is a 3x5 bitmap font (rows top to bottom, '1' = ink) for the
// labels of the PNG plots: digits, upper-case letters (lower case is drawn
// as upper case) and the punctuation the labels use. Built in so the plots
// need nothing beyond the standard library.
var glyphs = map[rune]string{
	'0': "111101101101111", '1': "010110010010111", '2': "111001111100111", '3': "111001111001111",
	'4': "101101111001001", '5': "111100111001111", '6': "111100111101111", '7': "111001010010010",
	'8': "111101111101111", '9': "111101111001111",
	'A': "010101111101101", 'B': "110101110101110", 'C': "011100100100011", 'D': "110101101101110",
	'E': "111100110100111", 'F': "111100110100100", 'G': "011100101101011", 'H': "101101111101101",
	'I': "111010010010111", 'J': "001001001101010", 'K': "101101110101101", 'L': "100100100100111",
	'M': "101111111101101", 'N': "110101101101101", 'O': "010101101101010", 'P': "110101110100100",
	'Q': "010101101110011", 'R': "110101110101101", 'S': "011100010001110", 'T': "111010010010010",
	'U': "101101101101111", 'V': "101101101101010", 'W': "101101111111101", 'X': "101101010101101",
	'Y': "101101010010010", 'Z': "111001010100111",
	'.': "000000000000010", ',': "000000000010100", ':': "000010000010000", '%': "101001010100101",
	'/': "001001010100100", '-': "000000111000000", '+': "000010111010000", '(': "001010010010001",
	')': "100010010010100", '_': "000000000000111", '=': "000111000111000", '>': "100010001010100",
	'<': "001010100010001", '\'': "010010000000000", '#': "101111101111101", '?': "111001010000010",
	'µ': "000101101110100", ' ': "000000000000000",
}

// glyphScale is how many pixels one font dot takes.
const glyphScale = 2

// textWidth is the width in pixels of s drawn with drawText.
func textWidth(s string) int { return len([]rune(s)) * 4 * glyphScale }

// textHeight is the height in pixels of a line of text.
const textHeight = 5 * glyphScale

// drawText draws s with its top-left corner at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range s {
		g, ok := glyphs[unicode.ToUpper(r)]
		if !ok {
			g = glyphs['?']
		}
		for i, bit := range g {
			if bit != '1' {
				continue
			}
			gx, gy := i%3, i/3
			for dy := range glyphScale {
				for dx := range glyphScale {
					img.Set(x+gx*glyphScale+dx, y+gy*glyphScale+dy, c)
				}
			}
		}
		x += 4 * glyphScale
	}
}
