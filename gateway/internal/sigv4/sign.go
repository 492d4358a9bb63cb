package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// signingInput is everything a request's signature covers, taken from the
// request as the client sent it.
type signingInput struct {
	method        string
	path          string     // escaped, as sent
	query         url.Values // without X-Amz-Signature
	scope         credentialScope
	signedHeaders []string            // as the client listed them
	headers       map[string][]string // signed name -> values (host included)
	payloadHash   string
	time          time.Time // UTC
	presigned     bool
	// dateHeader: the header form is dated by Date, not X-Amz-Date.
	dateHeader bool
	// sdkCanSign: the SDK signer reproduces this request's canonical form
	// (see sdkCanSign).
	sdkCanSign bool
}

// sdkCanSign reports whether aws-sdk-go-v2's signer can produce the
// client's canonical request. It cannot when:
//
//   - a header-form request is dated by Date instead of X-Amz-Date: SignHTTP
//     always adds and signs x-amz-date;
//   - content-length is signed with a value the signer would not write: it
//     signs content-length only from http.Request.ContentLength and only
//     when > 0, so a signed "content-length: 0" (an empty PUT from the Java
//     SDKs, e.g. Hadoop S3A's directory markers) cannot be expressed.
//
// Those requests go to canonicalSignature instead.
func sdkCanSign(in *signingInput) bool {
	if in.dateHeader {
		return false
	}
	if vs, ok := in.headers["content-length"]; ok {
		if len(vs) != 1 {
			return false
		}
		n, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != vs[0] {
			return false
		}
	}
	return true
}

// expectedSignature is the hex signature secret gives to in.
func (v *Verifier) expectedSignature(in *signingInput, secret string) (string, error) {
	if !in.sdkCanSign {
		return canonicalSignature(in, secret), nil
	}
	return v.sdkSignature(in, secret)
}

// sdkSignature rebuilds the request and signs it with aws-sdk-go-v2's
// signer (SignHTTP for the header form, PresignHTTP for presigned URLs).
//
// How the rebuilt request steers the signer:
//   - the path goes in URL.Opaque ("//h" + path), which the signer takes
//     verbatim (with DisableURIPathEscaping) instead of re-escaping it;
//   - URL.Scheme stays empty so the signer does not strip ":80"/":443"
//     from the host: the client signed the Host it sent;
//   - signed headers are stored under their lower-case names. The signer
//     skips Authorization, User-Agent, X-Amzn-Trace-Id, Expect and
//     Transfer-Encoding by their canonical keys only, so lower-case keys
//     let it sign them for clients that do (the Java SDK v1 signs
//     user-agent and expect);
//   - content-length goes in ContentLength (the signer ignores the header);
//   - x-amz-date is left out of the header form: SignHTTP writes it from the
//     signing time, which parseAmzDate guarantees formats to the same string.
func (v *Verifier) sdkSignature(in *signingInput, secret string) (string, error) {
	req := &http.Request{
		Method: in.method,
		URL:    &url.URL{Opaque: "//h" + in.path, RawQuery: in.query.Encode()},
		Header: make(http.Header, len(in.headers)),
	}
	for name, vals := range in.headers {
		switch {
		case name == "host":
			req.Host = vals[0]
		case name == "content-length":
			req.ContentLength, _ = strconv.ParseInt(vals[0], 10, 64) // checked by sdkCanSign
		case name == "x-amz-date" && !in.presigned:
		default:
			req.Header[name] = vals
		}
	}
	creds := aws.Credentials{AccessKeyID: in.scope.accessKey, SecretAccessKey: secret}
	ctx := context.Background()
	if in.presigned {
		signed, _, err := v.signer.PresignHTTP(ctx, creds, req, in.payloadHash, in.scope.service, in.scope.region, in.time)
		if err != nil {
			return "", err
		}
		return after(signed, "X-Amz-Signature=")
	}
	if err := v.signer.SignHTTP(ctx, creds, req, in.payloadHash, in.scope.service, in.scope.region, in.time); err != nil {
		return "", err
	}
	return after(req.Header.Get("Authorization"), "Signature=")
}

// after returns what follows the last marker in s (the signer puts the
// signature last in both the URL and the Authorization header).
func after(s, marker string) (string, error) {
	i := strings.LastIndex(s, marker)
	if i < 0 {
		return "", errors.New("the signer's output has no " + marker)
	}
	return s[i+len(marker):], nil
}

// SigningKey returns the SigV4 signing key of cred:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
// "aws4_request"), and false if cred's access key is unknown. The write
// path verifies aws-chunked chunk signatures with it.
func (v *Verifier) SigningKey(cred Credential) ([]byte, bool) {
	secret, ok := v.cfg.Keys[cred.AccessKey]
	if !ok {
		return nil, false
	}
	return deriveKey(secret, cred.Date, cred.Region, cred.Service), true
}

func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
