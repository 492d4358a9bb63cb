package gateway

import (
	"strconv"
	"strings"
)

// byteRange is one range of a Range header: bytes=first-last, first- or
// -suffix.
type byteRange struct {
	first, last int64 // last < 0: to the end (first- form)
	suffix      int64 // the -suffix form when isSuffix
	isSuffix    bool
}

// maxRangeHeader bounds the Range header parsed; a longer one is ignored.
const maxRangeHeader = 256

// parseRange parses a Range header as S3 honours it: a single byte range.
// ok is false when there is no header or S3 would ignore it and serve the
// whole object: another unit, several ranges, first > last, or anything
// that is not one well-formed range (RFC 9110 section 14.2: an invalid
// Range is ignored). An unsatisfiable but well-formed range (first past
// the end, a zero suffix) parses; resolve refuses it with InvalidRange.
func parseRange(h string) (r byteRange, ok bool) {
	if h == "" || len(h) > maxRangeHeader {
		return r, false
	}
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return r, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return r, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, ok := parseDigits(b)
		if !ok {
			return r, false
		}
		return byteRange{isSuffix: true, suffix: n}, true
	}
	first, ok := parseDigits(a)
	if !ok {
		return r, false
	}
	if b == "" {
		return byteRange{first: first, last: -1}, true
	}
	last, ok := parseDigits(b)
	if !ok || last < first {
		return r, false
	}
	return byteRange{first: first, last: last}, true
}

// parseDigits parses a non-negative decimal of at most 18 digits (no sign,
// no spaces): anything else is not a byte position.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// resolve returns the bytes [start, end) of an object of size bytes that r
// selects, or InvalidRange when it selects none (RFC 9110 section 14.1.1:
// a first position at or past the end, or a zero suffix, or any range of
// an empty object).
func (r byteRange) resolve(size int64) (start, end int64, err *s3Error) {
	switch {
	case r.isSuffix:
		if r.suffix == 0 || size == 0 {
			return 0, 0, errInvalidRange(size)
		}
		return max(0, size-r.suffix), size, nil
	case r.first >= size:
		return 0, 0, errInvalidRange(size)
	case r.last < 0 || r.last >= size:
		return r.first, size, nil
	default:
		return r.first, r.last + 1, nil
	}
}
