package transport

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/objpath"
)

// TestValidatePathIsObjpath checks the control requests follow objpath's
// rules, with errors that match both ErrBadRequest (the gRPC code) and
// objpath.ErrBadPath.
func TestValidatePathIsObjpath(t *testing.T) {
	long := "b/" + strings.Repeat("k", objpath.MaxLen-2)
	for _, p := range []string{"lake/x", "lake/d/x", long, "", "lake", "lake/", "/lake/x", "lake//x", "lake/../x", "lake/x\x00", "lake/\xff", long + "k"} {
		err, want := ValidatePath(p), objpath.Validate(p)
		if (err == nil) != (want == nil) {
			t.Fatalf("ValidatePath(%q) = %v, objpath says %v", p, err, want)
		}
		if err != nil && (!errors.Is(err, ErrBadRequest) || !errors.Is(err, objpath.ErrBadPath)) {
			t.Fatalf("ValidatePath(%q) = %v: not ErrBadRequest and ErrBadPath", p, err)
		}
	}
	for _, p := range []string{"lake", "lake/", "lake/d/", "", "lake//", "/lake/"} {
		if err, want := validatePrefix(p), objpath.ValidatePrefix(p); (err == nil) != (want == nil) {
			t.Fatalf("validatePrefix(%q) = %v, objpath says %v", p, err, want)
		}
	}
	if err := (&LoadRequest{Prefix: "lake/", Scope: strings.Repeat("s", objpath.MaxLen+1)}).Validate(); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("long scope: %v", err)
	}
}
