package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// canonicalSignature computes the signature from the canonical request as
// the SigV4 specification defines it ("Create a canonical request" in the
// IAM user guide). It is used only for the requests sdkCanSign says the
// SDK signer cannot express; tests check that it agrees with the SDK signer
// on every request both can sign.
func canonicalSignature(in *signingInput, secret string) string {
	var b strings.Builder
	b.WriteString(in.method)
	b.WriteByte('\n')
	b.WriteString(in.path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(in.query))
	b.WriteByte('\n')
	for _, name := range in.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range in.headers[name] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(collapseSpaces(v)))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(in.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(in.payloadHash)

	sum := sha256.Sum256([]byte(b.String()))
	sts := algorithm + "\n" + in.time.Format(amzDateLayout) + "\n" +
		in.scope.date + "/" + in.scope.region + "/" + in.scope.service + "/" + terminator + "\n" +
		hex.EncodeToString(sum[:])
	key := deriveKey(secret, in.scope.date, in.scope.region, in.scope.service)
	return hex.EncodeToString(hmacSHA256(key, sts))
}

// canonicalQuery: every name and value URI-encoded (RFC 3986 unreserved
// characters kept), sorted by name then value, "name=value" joined by '&'.
func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		ek := uriEncode(k)
		for _, v := range vs {
			pairs = append(pairs, ek+"="+uriEncode(v))
		}
	}
	// '=' sorts below every character uriEncode emits except '%', '-', '.'
	// and digits, so sort on (name, value), not on the joined string.
	sort.Slice(pairs, func(i, j int) bool {
		ki, vi, _ := strings.Cut(pairs[i], "=")
		kj, vj, _ := strings.Cut(pairs[j], "=")
		if ki != kj {
			return ki < kj
		}
		return vi < vj
	})
	return strings.Join(pairs, "&")
}

func uriEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// collapseSpaces turns runs of ' ' into one ' ' (the spec's Trimall).
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prev := false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp || !prev {
			b.WriteByte(s[i])
		}
		prev = sp
	}
	return b.String()
}
