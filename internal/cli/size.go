package cli

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// ErrInvalidSize is wrapped by every error ParseSize returns.
var ErrInvalidSize = errors.New("cli: invalid size")

// sizeUnits maps a lower-cased unit to its multiplier. Binary units are
// powers of 1024 and decimal units powers of 1000, as in IEC 80000-13; a
// bare number and "b" are bytes. Single letters ("k", "g") are refused on
// purpose: they are ambiguous between the two families.
var sizeUnits = map[string]uint64{
	"":    1,
	"b":   1,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
	"pib": 1 << 50,
	"eib": 1 << 60,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"pb":  1e15,
	"eb":  1e18,
}

// maxFracDigits bounds the digits after the decimal point: 10^19 is the
// largest power of ten that fits in a uint64, which keeps the arithmetic
// below exact.
const maxFracDigits = 19

// ParseSize parses a byte count such as "4096", "64MiB", "1GB", "1.5 GiB".
// Units are case-insensitive; KiB..EiB are binary, KB..EB decimal. A
// fraction is allowed with a unit larger than a byte and is rounded down to
// whole bytes. Negative values and values above math.MaxInt64 are errors
// wrapping ErrInvalidSize.
func ParseSize(s string) (int64, error) {
	n, reason := parseSize(s)
	if reason != "" {
		return 0, fmt.Errorf("%w %q: %s", ErrInvalidSize, s, reason)
	}
	return n, nil
}

// parseSize returns the size or, when s is refused, the reason; the reason
// lets flag errors say `invalid size "x": ...` without the package prefix.
func parseSize(s string) (int64, string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "empty"
	}
	if t[0] == '-' {
		return 0, "negative"
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	intDigits := t[:i]
	fracDigits := ""
	if i < len(t) && t[i] == '.' {
		j := i + 1
		for j < len(t) && t[j] >= '0' && t[j] <= '9' {
			j++
		}
		fracDigits = t[i+1 : j]
		if fracDigits == "" {
			return 0, "missing digits after the decimal point"
		}
		i = j
	}
	if intDigits == "" {
		return 0, "want a number such as 64MiB"
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Sprintf("unknown unit %q (want B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)", strings.TrimSpace(t[i:]))
	}
	if fracDigits != "" && mult == 1 {
		return 0, "fraction of a byte"
	}
	if len(fracDigits) > maxFracDigits {
		return 0, "too many digits after the decimal point"
	}

	var whole uint64
	for _, c := range intDigits {
		hi, lo := bits.Mul64(whole, 10)
		if hi != 0 {
			return 0, "too large"
		}
		var carry uint64
		whole, carry = bits.Add64(lo, uint64(c-'0'), 0)
		if carry != 0 {
			return 0, "too large"
		}
	}
	hi, total := bits.Mul64(whole, mult)
	if hi != 0 || total > math.MaxInt64 {
		return 0, "too large"
	}
	if fracDigits != "" {
		frac, _ := strconv.ParseUint(fracDigits, 10, 64) // ≤19 digits: fits
		den := pow10(len(fracDigits))
		// frac < den, so frac*mult < den*2^64 and the high word is below
		// den, which is what Div64 requires.
		fhi, flo := bits.Mul64(frac, mult)
		part, _ := bits.Div64(fhi, flo, den)
		var carry uint64
		total, carry = bits.Add64(total, part, 0)
		if carry != 0 || total > math.MaxInt64 {
			return 0, "too large"
		}
	}
	return int64(total), ""
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

var binaryUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// FormatSize renders n bytes for people: the largest binary unit not above
// n, with at most two decimals ("512 B", "64 MiB", "1.5 GiB"). The text is
// exact, and so ParseSize gives n back, whenever n is a multiple of a
// hundredth-representable step of that unit (any whole multiple, halves,
// quarters); otherwise it is rounded to two decimals for display.
func FormatSize(n int64) string {
	s, _ := formatSize(n)
	return s
}

// formatSize also reports whether the text is exact (ParseSize returns n).
func formatSize(n int64) (string, bool) {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-(n + 1)) + 1 // MinInt64 has no positive int64
	}
	k := 0
	for k+1 < len(binaryUnits) && u >= 1<<(10*(k+1)) {
		k++
	}
	unit := binaryUnits[k]
	if k == 0 {
		return sign + strconv.FormatUint(u, 10) + " B", true
	}
	shift := uint(10 * k)
	whole := u >> shift
	rem := u & (1<<shift - 1)
	// Hundredths of the unit, rounded half up. rem*100 may need 67 bits
	// (EiB), hence the 128-bit product.
	hi, lo := bits.Mul64(rem, 100)
	hundredths := hi<<(64-shift) | lo>>shift
	r := lo & (1<<shift - 1)
	exact := n >= 0 && r == 0
	if r >= 1<<(shift-1) {
		hundredths++
	}
	if hundredths == 100 {
		whole, hundredths = whole+1, 0
		if whole == 1024 && k+1 < len(binaryUnits) {
			k++
			unit, whole = binaryUnits[k], 1
		}
	}
	num := strconv.FormatUint(whole, 10)
	if hundredths != 0 {
		frac := fmt.Sprintf("%02d", hundredths)
		num += "." + strings.TrimRight(frac, "0")
	}
	return sign + num + " " + unit, exact
}
