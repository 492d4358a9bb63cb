package sigv4

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on client input, so a hostile request costs little to refuse.
const (
	// MaxAuthorizationLen is the longest Authorization header accepted.
	MaxAuthorizationLen = 4 << 10
	// MaxSignedHeaders is the most header names SignedHeaders may list.
	MaxSignedHeaders = 64
)

// Wire constants of SigV4 for S3.
const (
	algorithm     = "AWS4-HMAC-SHA256"
	terminator    = "aws4_request"
	serviceS3     = "s3"
	amzDateLayout = "20060102T150405Z"
	scopeDate     = "20060102"
)

// authHeader is the parsed "Authorization: AWS4-HMAC-SHA256 ..." header.
type authHeader struct {
	cred          credentialScope
	signedHeaders []string
	signature     string
}

// credentialScope is "AK/DATE/REGION/SERVICE/aws4_request".
type credentialScope struct {
	accessKey, date, region, service string
}

// parseAuthorization parses the header form's Authorization value. code is
// the S3 code its malformed errors carry.
func parseAuthorization(h string) (authHeader, error) {
	const code = codeHeaderMalformed
	if len(h) > MaxAuthorizationLen {
		return authHeader{}, malformed(code, "the Authorization header is longer than "+strconv.Itoa(MaxAuthorizationLen)+" bytes")
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		if strings.HasPrefix(h, "AWS ") {
			return authHeader{}, malformed(codeInvalidRequest, "the authorization mechanism you have provided (AWS signature version 2) is not supported; please use AWS4-HMAC-SHA256")
		}
		return authHeader{}, malformed(code, "unsupported authorization algorithm "+quote(alg)+"; want AWS4-HMAC-SHA256")
	}
	var a authHeader
	var haveCred, haveSH, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authHeader{}, malformed(code, "the Authorization header component "+quote(part)+" is not of the form key=value")
		}
		var err error
		switch k {
		case "Credential":
			if haveCred {
				return authHeader{}, malformed(code, "the Authorization header has Credential twice")
			}
			haveCred = true
			a.cred, err = parseCredential(v, code)
		case "SignedHeaders":
			if haveSH {
				return authHeader{}, malformed(code, "the Authorization header has SignedHeaders twice")
			}
			haveSH = true
			a.signedHeaders, err = parseSignedHeaders(v, code)
		case "Signature":
			if haveSig {
				return authHeader{}, malformed(code, "the Authorization header has Signature twice")
			}
			haveSig = true
			a.signature, err = parseSignature(v, code)
		default:
			return authHeader{}, malformed(code, "the Authorization header has an unknown component "+quote(k))
		}
		if err != nil {
			return authHeader{}, err
		}
	}
	switch {
	case !haveCred:
		return authHeader{}, malformed(code, "the Authorization header has no Credential")
	case !haveSH:
		return authHeader{}, malformed(code, "the Authorization header has no SignedHeaders")
	case !haveSig:
		return authHeader{}, malformed(code, "the Authorization header has no Signature")
	}
	return a, nil
}

// parseCredential parses "AK/YYYYMMDD/REGION/s3/aws4_request". Access keys
// cannot contain '/' (ParseKeys refuses them), so there are exactly five
// parts. Any region is accepted: ringcache has one namespace whatever
// region the client thinks it talks to.
func parseCredential(s, code string) (credentialScope, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return credentialScope{}, malformed(code, "the credential "+quote(s)+" is not of the form ACCESS/YYYYMMDD/REGION/s3/aws4_request")
	}
	c := credentialScope{accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3]}
	switch {
	case c.accessKey == "":
		return credentialScope{}, malformed(code, "the credential has an empty access key")
	case !validScopeDate(c.date):
		return credentialScope{}, malformed(code, "the credential date "+quote(c.date)+" is not YYYYMMDD")
	case c.region == "":
		return credentialScope{}, malformed(code, "the credential has an empty region")
	case c.service != serviceS3:
		return credentialScope{}, malformed(code, "the credential service "+quote(c.service)+" is wrong; expecting 's3'")
	case parts[4] != terminator:
		return credentialScope{}, malformed(code, "the credential terminator "+quote(parts[4])+" is wrong; expecting 'aws4_request'")
	}
	return c, nil
}

func validScopeDate(d string) bool {
	if len(d) != len(scopeDate) {
		return false
	}
	_, err := time.Parse(scopeDate, d)
	return err == nil
}

// parseSignedHeaders parses "host;range;x-amz-date": lower-case header
// names, ';'-separated, at most MaxSignedHeaders, host among them.
func parseSignedHeaders(s, code string) ([]string, error) {
	if s == "" {
		return nil, malformed(code, "SignedHeaders is empty")
	}
	if n := strings.Count(s, ";") + 1; n > MaxSignedHeaders {
		return nil, malformed(code, "SignedHeaders lists "+strconv.Itoa(n)+" headers; at most "+strconv.Itoa(MaxSignedHeaders)+" are accepted")
	}
	names := strings.Split(s, ";")
	host := false
	for _, n := range names {
		if !validHeaderName(n) {
			return nil, malformed(code, "SignedHeaders has an invalid header name "+quote(n))
		}
		host = host || n == "host"
	}
	if !host {
		return nil, malformed(code, "SignedHeaders does not include host, which must be signed")
	}
	return names, nil
}

// validHeaderName: a non-empty lower-case HTTP token (RFC 9110 tchar).
func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseSignature checks a hex SHA-256 HMAC and returns it lower-cased.
func parseSignature(s, code string) (string, error) {
	if len(s) != 64 || !isHex(s) {
		return "", malformed(code, "the signature "+quote(s)+" is not 64 hex digits")
	}
	return strings.ToLower(s), nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// parseAmzDate parses X-Amz-Date's ISO 8601 basic form, strictly, so that
// formatting the time again gives back the client's string (the signer
// writes the signing time in that form).
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	if err != nil || t.Format(amzDateLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// presignedQuery is the parsed X-Amz-* of a presigned URL.
type presignedQuery struct {
	authHeader
	date    time.Time
	expires time.Duration
	// payloadHash is X-Amz-Content-Sha256 if the URL carries one, else
	// UNSIGNED-PAYLOAD (S3's rule for presigned requests).
	payloadHash string
}

// parsePresigned parses the X-Amz-* parameters of a presigned URL from q.
// Each must appear exactly once. maxExpires bounds X-Amz-Expires.
func parsePresigned(q url.Values, maxExpires time.Duration) (presignedQuery, error) {
	const code = codeQueryParamsError
	one := func(k string) (string, error) {
		v := q[k]
		switch len(v) {
		case 0:
			return "", malformed(code, "query-string authentication requires the "+k+" parameter")
		case 1:
			return v[0], nil
		}
		return "", malformed(code, "the "+k+" parameter appears more than once")
	}
	var p presignedQuery
	alg, err := one("X-Amz-Algorithm")
	if err != nil {
		return p, err
	}
	if alg != algorithm {
		return p, malformed(code, "X-Amz-Algorithm "+quote(alg)+" is not supported; want AWS4-HMAC-SHA256")
	}
	cred, err := one("X-Amz-Credential")
	if err != nil {
		return p, err
	}
	if p.cred, err = parseCredential(cred, code); err != nil {
		return p, err
	}
	date, err := one("X-Amz-Date")
	if err != nil {
		return p, err
	}
	var ok bool
	if p.date, ok = parseAmzDate(date); !ok {
		return p, malformed(code, "X-Amz-Date "+quote(date)+" must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	exp, err := one("X-Amz-Expires")
	if err != nil {
		return p, err
	}
	if p.expires, err = parseExpires(exp, maxExpires); err != nil {
		return p, err
	}
	sh, err := one("X-Amz-SignedHeaders")
	if err != nil {
		return p, err
	}
	if p.signedHeaders, err = parseSignedHeaders(sh, code); err != nil {
		return p, err
	}
	sig, err := one("X-Amz-Signature")
	if err != nil {
		return p, err
	}
	if p.signature, err = parseSignature(sig, code); err != nil {
		return p, err
	}
	p.payloadHash = unsignedPayload
	if v, ok := q["X-Amz-Content-Sha256"]; ok {
		if len(v) != 1 || !validPayloadHash(v[0]) {
			return p, malformed(code, "X-Amz-Content-Sha256 must appear once and be UNSIGNED-PAYLOAD or a hex SHA-256")
		}
		p.payloadHash = v[0]
	}
	return p, nil
}

// parseExpires parses X-Amz-Expires: whole seconds, 1 to maxExpires.
func parseExpires(s string, maxExpires time.Duration) (time.Duration, error) {
	const code = codeQueryParamsError
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || len(s) > 12 {
		return 0, malformed(code, "X-Amz-Expires "+quote(s)+" should be a number of seconds")
	}
	if n == 0 {
		return 0, malformed(code, "X-Amz-Expires must be at least 1 second")
	}
	if d := time.Duration(n) * time.Second; d <= maxExpires {
		return d, nil
	}
	return 0, malformed(code, "X-Amz-Expires must be less than "+strconv.FormatInt(int64(maxExpires/time.Second), 10)+" seconds")
}

// Payload hash values S3 accepts in x-amz-content-sha256 besides a hex
// SHA-256. The STREAMING-* ones announce an aws-chunked body whose chunks
// the write path checks.
const unsignedPayload = "UNSIGNED-PAYLOAD"

var streamingPayloads = []string{
	"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
}

// validPayloadHash reports whether v may be x-amz-content-sha256.
func validPayloadHash(v string) bool {
	if len(v) == 64 && isHex(v) || v == unsignedPayload {
		return true
	}
	for _, s := range streamingPayloads {
		if v == s {
			return true
		}
	}
	return false
}

// quote quotes client input for an error message, cut to a length a log
// line can carry.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
