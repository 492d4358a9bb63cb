package storage

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/objpath"
)

// TestUpsertBadPath checks that Upsert applies objpath's rules and that the
// error is both a storage and an objpath one.
func TestUpsertBadPath(t *testing.T) {
	s := mustOpen(t, testConfig(t, t.TempDir()))
	defer s.Close()
	for _, p := range []string{"", "nobucket", "a/../b", "a//b", "/a/b", "a/b\x00", strings.Repeat("a/", objpath.MaxLen)} {
		_, err := s.Upsert(p, fp("e", 1), "", "")
		if !errors.Is(err, ErrUnknownFile) || !errors.Is(err, objpath.ErrBadPath) {
			t.Errorf("Upsert(%.20q) = %v, want ErrUnknownFile and objpath.ErrBadPath", p, err)
		}
	}
	if _, err := s.Upsert("a/b", fp("e", 1), "", "bad\x00scope"); !errors.Is(err, objpath.ErrBadPath) {
		t.Errorf("bad scope: %v", err)
	}
	if _, err := s.Upsert("a/b", fp("e", 1), "", ""); err != nil {
		t.Fatalf("good path: %v", err)
	}
}
