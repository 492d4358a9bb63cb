// Package shadow is the shadow cache: it answers "how big is the working
// set, and what hit ratio would a cache that held all of it get?" without
// holding any page. It is Alluxio's shadow cache design (seed 001, the
// Alluxio-at-Uber notes): the window (--shadow-window, default 24h) is cut
// into Segments time segments, each with a Bloom filter of the pages read
// in it; when a segment ends, the oldest filter is cleared and takes the
// new segment.
//
// What it reports:
//
//   - An access is a shadow hit when its page is in any filter of the window
//     (it was read earlier in the window); the hit ratio is hits/accesses of
//     the window's segments.
//   - The working set is the distinct pages of the window: the filters are
//     OR-ed and the count of distinct pages is estimated from the fill of
//     the union (n = ln(zeros/m) / ln(1-k/m) for m bits and k bits a page),
//     times the mean size of a page (the bytes and count of the pages new to
//     each segment).
//
// The window is the current segment and the Segments-1 before it, so it
// holds between Window-Window/Segments and Window of history.
//
// Memory is fixed at New: Segments filters of BitsPerPage*Pages bits, 8 MiB
// per million pages with the defaults (4 segments, 16 bits). Up to Pages
// distinct pages a window, the working set is within about 1% and false
// hits (Bloom false positives) add under 0.5 points to the hit ratio; past
// it both degrade gradually (Stats.Fill says how full the filters are).
//
// The package is pure: no goroutines, no I/O, and time comes from
// Config.Now. A Cache is safe for concurrent use.
package shadow
