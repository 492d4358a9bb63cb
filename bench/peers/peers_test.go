package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The verifier is what makes "0 wrong bytes" mean something: it must see a
// flipped byte, a short answer, a long answer and another object's bytes.
func TestWrongBytes(t *testing.T) {
	src := source{seed: 7, size: 4096}
	good := src.bytes(3)
	if n := src.wrongBytes(3, good); n != 0 {
		t.Fatalf("the object's own bytes: %d wrong, want 0", n)
	}
	flipped := bytes.Clone(good)
	flipped[100] ^= 1
	cases := map[string]struct {
		p    []byte
		want int64
	}{
		"one flipped byte": {flipped, 1},
		"short by 10":      {good[:len(good)-10], 10},
		"long by 2":        {append(bytes.Clone(good), 0, 0), 2},
	}
	for name, c := range cases {
		if n := src.wrongBytes(3, c.p); n != c.want {
			t.Errorf("%s: %d wrong, want %d", name, n, c.want)
		}
	}
	if n := src.wrongBytes(3, src.bytes(4)); n < int64(src.size)*9/10 {
		t.Errorf("another object's bytes: only %d of %d wrong", n, src.size)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, i := range []int{0, 7, 1999, 123456} {
		got, err := keyIndex(keyName(i))
		if err != nil || got != i {
			t.Fatalf("keyIndex(keyName(%d)) = %d, %v", i, got, err)
		}
	}
	for _, bad := range []string{"", "obj-", "x-00001", "obj--1"} {
		if _, err := keyIndex(bad); err == nil {
			t.Errorf("keyIndex(%q): no error", bad)
		}
	}
}

func TestParseRows(t *testing.T) {
	rows, err := parseRows("64KiB:2000,1MiB:300")
	if err != nil || len(rows) != 2 || rows[0] != (row{64 << 10, 2000}) || rows[1] != (row{1 << 20, 300}) {
		t.Fatalf("parseRows = %v, %v", rows, err)
	}
	for _, bad := range []string{"64KiB", "64KiB:1", "x:10", "64KiB:2000,"} {
		if _, err := parseRows(bad); err == nil {
			t.Errorf("parseRows(%q): no error", bad)
		}
	}
}

// The ratio columns compare with the best peer of the same row, never with
// ringcache itself.
func TestTableRatios(t *testing.T) {
	mk := func(sys string, ops uint64, rw row) cell {
		c := cell{system: sys, row: rw, res: result{ops: ops, elapsed: time.Second}}
		c.res.hist.Record(time.Millisecond)
		return c
	}
	r := row{64 << 10, 2000}
	var out strings.Builder
	printTable(&out, []cell{mk("groupcache", 100, r), mk("olric", 200, r), mk("ringcache", 300, r)})
	if !strings.Contains(out.String(), "| ringcache | 64KiB x 2000 | 300 |") || !strings.Contains(out.String(), "1.50x (olric)") {
		t.Fatalf("table:\n%s", out.String())
	}
}
