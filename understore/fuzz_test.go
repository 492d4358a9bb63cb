package understore_test

import (
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ringcache/ringcache/understore"
)

// FuzzValidatePath checks that every accepted path satisfies the path rules
// and is already in clean form, so joining it under a directory can never
// climb out; rejected paths must wrap ErrBadPath. The seed corpus is in
// testdata/fuzz/FuzzValidatePath.
func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"lake/x", "lake/a/b.parquet", "", "/", "a", "a/", "a//b", "a/./b", "a/../b",
		"../a/b", "a/b\x00", "a/\xff", "a/b/.", "a/..b", "a/b..", "a/ b", "a\\b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := understore.ValidatePath(p)
		if err != nil {
			if !errors.Is(err, understore.ErrBadPath) {
				t.Fatalf("ValidatePath(%q) = %v, not ErrBadPath", p, err)
			}
			return
		}
		if len(p) > understore.MaxPathLen || !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
			t.Fatalf("accepted %q", p)
		}
		if path.Clean(p) != p || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") {
			t.Fatalf("accepted unclean %q (clean %q)", p, path.Clean(p))
		}
		elems := strings.Split(p, "/")
		if len(elems) < 2 {
			t.Fatalf("accepted %q without a key", p)
		}
		for _, e := range elems {
			if e == "" || e == "." || e == ".." {
				t.Fatalf("accepted %q with element %q", p, e)
			}
		}
		if err := understore.ValidatePrefix(p); err != nil {
			t.Fatalf("valid path %q is not a valid prefix: %v", p, err)
		}
		if err := understore.ValidatePrefix(p + "/"); err != nil {
			t.Fatalf("valid path %q + / is not a valid prefix: %v", p, err)
		}
	})
}

// FuzzParseUploadID: an accepted upload ID is exactly 32 lower-case hex
// digits, so it can name a directory and never a path outside the staging
// directory. The seed corpus is in testdata/fuzz/FuzzParseUploadID.
func FuzzParseUploadID(f *testing.F) {
	for _, s := range []string{"18ef21fd993d0c23e9e6557834d416f6", "", "..", "../../etc/passwd",
		"18ef21fd993d0c23e9e6557834d416f", "18ef21fd993d0c23e9e6557834d416f60", "18EF21FD993D0C23E9E6557834D416F6",
		"18ef21fd993d0c23/9e6557834d416f6", "18ef21fd993d0c23e9e6557834d416f\x00", ".new-18ef21fd993d0c23e9e6557834d4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if understore.ParseUploadID(id) != nil {
			return
		}
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("accepted %q", id)
		}
	})
}
