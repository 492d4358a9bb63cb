package objpath

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := "b/" + strings.Repeat("k", MaxLen-2)
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"b/k", true},
		{"lake/warehouse/t/part-0.parquet", true},
		{long, true},
		{long + "x", false},
		{"", false},
		{"bucket", false},
		{"/b/k", false},
		{"b//k", false},
		{"b/k/", false},
		{"b/./k", false},
		{"b/../k", false},
		{"b/k\x00", false},
		{"b/\xff", false},
	} {
		err := Validate(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadPath) {
			t.Errorf("Validate(%q) = %v, does not wrap ErrBadPath", tc.path, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		ok     bool
	}{
		{"b", true},
		{"b/", true},
		{"b/dir/par", true},
		{"b/dir/", true},
		{"", false},
		{"/", false},
		{"b//", false},
		{"b/../", false},
	} {
		if err := ValidatePrefix(tc.prefix); (err == nil) != tc.ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok=%v", tc.prefix, err, tc.ok)
		}
	}
}

func TestValidateScope(t *testing.T) {
	if err := ValidateScope(""); err != nil {
		t.Errorf("empty scope: %v", err)
	}
	if err := ValidateScope("db/t/p=1"); err != nil {
		t.Errorf("scope: %v", err)
	}
	if err := ValidateScope(strings.Repeat("s", MaxLen+1)); !errors.Is(err, ErrBadPath) {
		t.Errorf("long scope: %v", err)
	}
	if err := ValidateScope("a\x00"); !errors.Is(err, ErrBadPath) {
		t.Errorf("NUL scope: %v", err)
	}
}

func TestSplit(t *testing.T) {
	if b, k := Split("lake/a/b"); b != "lake" || k != "a/b" {
		t.Errorf("Split = %q, %q", b, k)
	}
	if b, k := Split("lake"); b != "lake" || k != "" {
		t.Errorf("Split = %q, %q", b, k)
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"b/k", "", "b/../k", "/x", "b/k/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := Validate(p)
		if err != nil {
			return
		}
		if len(p) > MaxLen || p[0] == '/' || strings.HasSuffix(p, "/") {
			t.Fatalf("accepted %q", p)
		}
		for _, e := range strings.Split(p, "/") {
			if e == "" || e == "." || e == ".." {
				t.Fatalf("accepted %q with element %q", p, e)
			}
		}
	})
}
