package transport

import (
	"testing"
	"time"
)

// TestHeaderModTime: the header carries ModTime only to a reader that set
// FlagModTime, and a reader that asked for it still accepts a header
// without it (a server that predates the flag).
func TestHeaderModTime(t *testing.T) {
	mt := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	h := ReadHeader{Size: 10, ETag: "e", Version: 3, ModTime: mt}
	frame := func(with bool) []byte { return appendHeader(nil, 7, &h, with)[FrameHeaderSize:] }

	_, got, err := parseHeader(frame(true), true)
	if err != nil || !got.ModTime.Equal(mt) || got.ETag != "e" || got.Size != 10 {
		t.Fatalf("with flag: %+v, %v; want ModTime %v", got, err, mt)
	}
	_, got, err = parseHeader(frame(false), true)
	if err != nil || !got.ModTime.IsZero() || got.ETag != "e" {
		t.Fatalf("old server: %+v, %v; want zero ModTime", got, err)
	}
	_, got, err = parseHeader(frame(false), false)
	if err != nil || !got.ModTime.IsZero() {
		t.Fatalf("old reader: %+v, %v", got, err)
	}
	if _, _, err := parseHeader(frame(true), false); err == nil {
		t.Fatal("a reader that did not ask for ModTime accepted the longer header")
	}
	h.ModTime = time.Time{}
	if _, got, err := parseHeader(frame(true), true); err != nil || !got.ModTime.IsZero() {
		t.Fatalf("zero ModTime: %+v, %v", got, err)
	}
}
