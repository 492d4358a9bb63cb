package listing

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzParseQuery: any query string parses or is refused with
// ErrInvalidArgument, never a panic; what parses is valid.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"list-type=2&max-keys=7&prefix=a/&delimiter=/", "max-keys=-1", "max-keys=1001",
		"encoding-type=url&start-after=a%20b", "continuation-token=AQ&list-type=2", "prefix=a/../b",
		"marker=%FF", "delimiter=%00", "max-keys=0&fetch-owner=true",
	} {
		f.Add("lake", s)
	}
	f.Fuzz(func(t *testing.T, bucket, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(bucket, v)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseQuery(%q, %q) = %v, not InvalidArgument", bucket, raw, err)
			}
			return
		}
		if q.MaxKeys < 0 || q.MaxKeys > MaxKeys || q.Validate() != nil {
			t.Fatalf("ParseQuery(%q, %q) = %+v, invalid", bucket, raw, q)
		}
		if _, err := startOf(q); err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("startOf(%+v) = %v", q, err)
		}
	})
}

// FuzzDecodeToken: any string decodes or is refused, never a panic; what
// decodes re-encodes to the same token.
func FuzzDecodeToken(f *testing.F) {
	good, _ := encodeToken(tokenState{scope: scopeOf("lake", "p/", "/"), under: "under"})
	for _, s := range []string{good, "", "AQ", "garbage!", good[:len(good)-1], good + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		st, err := decodeToken(tok)
		if err != nil {
			return
		}
		again, err := encodeToken(st)
		if err != nil || again != tok {
			t.Fatalf("decodeToken(%q) = %+v re-encodes to %q, %v", tok, st, again, err)
		}
	})
}

// FuzzTokenRoundTrip: a token decodes to the state it was encoded from.
func FuzzTokenRoundTrip(f *testing.F) {
	f.Add("lake", "p/", "/", "under")
	f.Add("b", "", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, bucket, prefix, delimiter, under string) {
		if under == "" {
			return // never encoded: an empty NextToken ends the listing
		}
		st := tokenState{scope: scopeOf(bucket, prefix, delimiter), under: under}
		tok, err := encodeToken(st)
		if err != nil {
			if len(under) < MaxTokenLen/2 {
				t.Fatalf("encodeToken of a %d-byte under token: %v", len(under), err)
			}
			return
		}
		got, err := decodeToken(tok)
		if err != nil || got != st {
			t.Fatalf("decodeToken(encodeToken(%+v)) = %+v, %v", st, got, err)
		}
	})
}
