package gateway

import (
	"net/http"
	"testing"
	"time"
)

func TestConditions(t *testing.T) {
	mod := time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC) // sub-second: Last-Modified drops it
	etag := `"abc"`
	before, at, after := mod.Add(-time.Hour).Format(http.TimeFormat), mod.Format(http.TimeFormat), mod.Add(time.Hour).Format(http.TimeFormat)
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"none", nil, 0},
		{"if-match hit", map[string]string{"If-Match": `"abc"`}, 0},
		{"if-match bare etag", map[string]string{"If-Match": `abc`}, 0},
		{"if-match list", map[string]string{"If-Match": `"x", "abc"`}, 0},
		{"if-match star", map[string]string{"If-Match": `*`}, 0},
		{"if-match miss", map[string]string{"If-Match": `"x"`}, 412},
		{"if-none-match hit", map[string]string{"If-None-Match": `"abc"`}, 304},
		{"if-none-match weak", map[string]string{"If-None-Match": `W/"abc"`}, 304},
		{"if-none-match miss", map[string]string{"If-None-Match": `"x"`}, 0},
		{"if-modified-since before", map[string]string{"If-Modified-Since": before}, 0},
		{"if-modified-since at", map[string]string{"If-Modified-Since": at}, 304},
		{"if-modified-since after", map[string]string{"If-Modified-Since": after}, 304},
		{"if-unmodified-since before", map[string]string{"If-Unmodified-Since": before}, 412},
		{"if-unmodified-since at", map[string]string{"If-Unmodified-Since": at}, 0},
		{"bad date ignored", map[string]string{"If-Unmodified-Since": "yesterday"}, 0},
		// S3: If-Match true and If-Unmodified-Since false -> 200.
		{"if-match wins over unmodified-since", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, 0},
		// S3: If-None-Match false and If-Modified-Since true -> 304.
		{"if-none-match wins over modified-since", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": at}, 0},
		{"if-none-match hit over modified-since", map[string]string{"If-None-Match": etag, "If-Modified-Since": before}, 304},
		{"if-match miss and none-match hit", map[string]string{"If-Match": `"x"`, "If-None-Match": etag}, 412},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.hdr {
			h.Set(k, v)
		}
		c := parseConditions(h)
		if got := c.check(etag, mod); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
		if c.present() != (len(tc.hdr) > 0 && tc.name != "bad date ignored") {
			t.Errorf("%s: present() = %v", tc.name, c.present())
		}
	}
}
