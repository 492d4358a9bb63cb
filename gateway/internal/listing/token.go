package listing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// The continuation token is ringcache's own, so that a garbage or foreign
// token is refused here (InvalidArgument) instead of reaching the
// under-store. It is the same on every node (no per-node secret), because
// any node answers any request. Layout before base64url (no padding):
//
//	+---------+--------------+--------------------------+-------------+
//	| version | scope        | under-store token        | check       |
//	| 1 byte  | 8 bytes      | 1+ bytes, opaque         | 8 bytes     |
//	+---------+--------------+--------------------------+-------------+
//
// scope is the first 8 bytes of SHA-256(bucket NUL prefix NUL delimiter),
// so a token only continues the listing it came from; check is the first 8
// bytes of SHA-256 of everything before it (integrity, not secrecy: the
// under-store token is not secret and the client could list it anyway).
// The version and layout are part of the format: a token handed out by one
// node must be understood by every other node of the cluster.
const (
	tokenVersion = 1
	scopeLen     = 8
	checkLen     = 8
	// MaxTokenLen bounds a continuation token, in bytes. A local-directory
	// under-store's own token carries the last key (up to objpath.MaxLen
	// bytes, base64'd), so 1 KiB would not hold every token this package
	// hands out; 4 KiB does with room to spare.
	MaxTokenLen = 4096
)

var errBadToken = errors.New("malformed continuation token")

// tokenState is what a continuation token carries.
type tokenState struct {
	scope [scopeLen]byte // scopeOf the listing
	under string         // the under-store's NextToken; never empty
}

// scopeOf fingerprints the listing a token belongs to.
func scopeOf(bucket, prefix, delimiter string) [scopeLen]byte {
	h := sha256.New()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(prefix))
	h.Write([]byte{0})
	h.Write([]byte(delimiter))
	var s [scopeLen]byte
	copy(s[:], h.Sum(nil))
	return s
}

func encodeToken(st tokenState) (string, error) {
	b := make([]byte, 0, 1+scopeLen+len(st.under)+checkLen)
	b = append(b, tokenVersion)
	b = append(b, st.scope[:]...)
	b = append(b, st.under...)
	sum := sha256.Sum256(b)
	b = append(b, sum[:checkLen]...)
	tok := base64.RawURLEncoding.EncodeToString(b)
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("listing: continuation token of %d bytes > %d", len(tok), MaxTokenLen)
	}
	return tok, nil
}

// decodeToken parses and checks a token; every failure is errBadToken.
// Decoding is strict (canonical base64 only), so a token that decodes
// re-encodes to itself.
func decodeToken(tok string) (tokenState, error) {
	if len(tok) > MaxTokenLen {
		return tokenState{}, errBadToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) < 1+scopeLen+1+checkLen || b[0] != tokenVersion {
		return tokenState{}, errBadToken
	}
	body, check := b[:len(b)-checkLen], b[len(b)-checkLen:]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:checkLen], check) {
		return tokenState{}, errBadToken
	}
	var st tokenState
	copy(st.scope[:], body[1:1+scopeLen])
	st.under = string(body[1+scopeLen:])
	return st, nil
}
