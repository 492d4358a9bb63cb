package sigv4

import (
	"crypto/subtle"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credential is what a verified request was signed with.
type Credential struct {
	AccessKey string
	Date      string // credential scope date, YYYYMMDD
	Region    string // whatever region the client signed for
	Service   string // always "s3"
	// SignedHeaders are the lower-case header names the client signed.
	SignedHeaders []string
	// Time is the request's signing time (X-Amz-Date, or Date).
	Time time.Time
	// PayloadHash is x-amz-content-sha256 as signed (a hex SHA-256,
	// UNSIGNED-PAYLOAD or a STREAMING-* value), or UNSIGNED-PAYLOAD for a
	// presigned URL. Verify does not read the body: the write path checks
	// the body against it.
	PayloadHash string
	// Signature is the request's (seed) signature in lower-case hex; the
	// chunk signatures of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body chain
	// from it.
	Signature string
}

// Verifier checks SigV4 signatures against a fixed set of keys. It is safe
// for concurrent use.
type Verifier struct {
	cfg    Config
	signer *v4.Signer
}

// New returns a Verifier for cfg (defaults applied) or cfg's Validate error.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	keys := make(map[string]string, len(cfg.Keys))
	for k, s := range cfg.Keys {
		keys[k] = s
	}
	cfg.Keys = keys // the caller's map may change later; ours does not
	return &Verifier{
		cfg: cfg.withDefaults(),
		signer: v4.NewSigner(func(o *v4.SignerOptions) {
			// S3 signs the path as sent, not escaped a second time.
			o.DisableURIPathEscaping = true
			// The client chose which headers to hoist into the query; the
			// request we rebuild must keep them where the client put them.
			o.DisableHeaderHoisting = true
		}),
	}, nil
}

// presignParams are the query parameters that make a request presigned.
var presignParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"}

// Verify checks r's SigV4 signature, in the Authorization header or in a
// presigned query, and returns the credential it was signed with. It reads
// no body. Every error wraps one of the Err* sentinels; Code gives the S3
// answer.
func (v *Verifier) Verify(r *http.Request) (Credential, error) {
	authz, hasAuthz := r.Header["Authorization"]
	query, qerr := url.ParseQuery(r.URL.RawQuery)
	presigned := false
	for _, k := range presignParams {
		_, ok := query[k]
		presigned = presigned || ok
	}
	switch {
	case hasAuthz && presigned:
		return Credential{}, malformed(codeInvalidArgument, "only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case hasAuthz:
		if len(authz) != 1 {
			return Credential{}, malformed(codeHeaderMalformed, "more than one Authorization header")
		}
		return v.verifyHeader(r, authz[0], query, qerr)
	case presigned:
		if qerr != nil {
			return Credential{}, malformed(codeQueryParamsError, "the query string does not parse: "+qerr.Error())
		}
		return v.verifyPresigned(r, query)
	case query.Has("AWSAccessKeyId") && query.Has("Signature"):
		return Credential{}, malformed(codeInvalidRequest, "the authorization mechanism you have provided (AWS signature version 2 query string) is not supported; please use AWS4-HMAC-SHA256")
	}
	return Credential{}, missingAuth()
}

// verifyHeader checks the header form: "Authorization: AWS4-HMAC-SHA256
// Credential=..., SignedHeaders=..., Signature=...".
func (v *Verifier) verifyHeader(r *http.Request, authz string, query url.Values, qerr error) (Credential, error) {
	a, err := parseAuthorization(authz)
	if err != nil {
		return Credential{}, err
	}
	t, fromDate, err := requestTime(r.Header)
	if err != nil {
		return Credential{}, err
	}
	if now := v.cfg.Now(); absDuration(now.Sub(t)) > v.cfg.MaxSkew {
		return Credential{}, skewed("the difference between the request time " + t.UTC().Format(amzDateLayout) + " and the server's time " + now.UTC().Format(amzDateLayout) + " is larger than " + v.cfg.MaxSkew.String())
	}
	if a.cred.date != t.UTC().Format(scopeDate) {
		return Credential{}, malformed(codeHeaderMalformed, "invalid credential date "+quote(a.cred.date)+": it is not the same as the request's date "+t.UTC().Format(scopeDate))
	}
	payload, err := headerPayloadHash(r.Header)
	if err != nil {
		return Credential{}, err
	}
	if qerr != nil {
		return Credential{}, mismatch("the query string does not parse: " + qerr.Error())
	}
	in := signingInput{
		method: r.Method, path: requestPath(r), query: query,
		scope: a.cred, signedHeaders: a.signedHeaders,
		payloadHash: payload, time: t.UTC(), dateHeader: fromDate,
	}
	return v.check(r, &in, a.signature)
}

// verifyPresigned checks the query form (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature).
func (v *Verifier) verifyPresigned(r *http.Request, query url.Values) (Credential, error) {
	p, err := parsePresigned(query, v.cfg.MaxExpires)
	if err != nil {
		return Credential{}, err
	}
	now := v.cfg.Now()
	if p.date.Sub(now) > v.cfg.MaxSkew {
		return Credential{}, skewed("the presigned request is dated " + p.date.Format(amzDateLayout) + ", more than " + v.cfg.MaxSkew.String() + " after the server's time " + now.UTC().Format(amzDateLayout))
	}
	if now.After(p.date.Add(p.expires)) {
		return Credential{}, expired("request has expired (X-Amz-Date " + p.date.Format(amzDateLayout) + " + X-Amz-Expires " + strconv.FormatInt(int64(p.expires/time.Second), 10) + "s is before " + now.UTC().Format(amzDateLayout) + ")")
	}
	if p.cred.date != p.date.Format(scopeDate) {
		return Credential{}, malformed(codeQueryParamsError, "invalid credential date "+quote(p.cred.date)+": it is not the same as X-Amz-Date "+p.date.Format(scopeDate))
	}
	rest := make(url.Values, len(query))
	for k, vs := range query {
		if k != "X-Amz-Signature" {
			rest[k] = vs
		}
	}
	in := signingInput{
		method: r.Method, path: requestPath(r), query: rest,
		scope: p.cred, signedHeaders: p.signedHeaders,
		payloadHash: p.payloadHash, time: p.date, presigned: true,
	}
	return v.check(r, &in, p.signature)
}

// check gathers the signed headers, computes the expected signature and
// compares it with got in constant time. An unknown access key is signed
// with a stand-in secret so that it costs what a known one does.
func (v *Verifier) check(r *http.Request, in *signingInput, got string) (Credential, error) {
	if err := collectHeaders(r, in); err != nil {
		return Credential{}, err
	}
	secret, known := v.cfg.Keys[in.scope.accessKey]
	if !known {
		secret = "ringcache-sigv4-unknown-access-key"
	}
	want, err := v.expectedSignature(in, secret)
	if err != nil {
		return Credential{}, mismatch("cannot compute the signature: " + err.Error())
	}
	equal := subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
	if !known {
		return Credential{}, invalidAccessKey(in.scope.accessKey)
	}
	if !equal {
		return Credential{}, mismatch("the request signature we calculated does not match the signature you provided; check your key and signing method")
	}
	return Credential{
		AccessKey: in.scope.accessKey, Date: in.scope.date, Region: in.scope.region, Service: in.scope.service,
		SignedHeaders: in.signedHeaders, Time: in.time, PayloadHash: in.payloadHash, Signature: got,
	}, nil
}

// requestTime is X-Amz-Date, or the Date header when there is none (SigV4
// allows either); fromDate says which.
func requestTime(h http.Header) (t time.Time, fromDate bool, err error) {
	bad := &Error{ErrMalformed, codeAccessDenied, http.StatusForbidden, "AWS authentication requires a valid Date or x-amz-date header"}
	if vs, ok := h["X-Amz-Date"]; ok {
		if len(vs) != 1 {
			return time.Time{}, false, bad
		}
		t, ok := parseAmzDate(vs[0])
		if !ok {
			return time.Time{}, false, bad
		}
		return t, false, nil
	}
	vs := h["Date"]
	if len(vs) != 1 {
		return time.Time{}, false, bad
	}
	t, err = http.ParseTime(vs[0])
	if err != nil {
		return time.Time{}, false, bad
	}
	return t.UTC(), true, nil
}

// headerPayloadHash is x-amz-content-sha256, which S3 requires on every
// header-signed request (400 InvalidRequest without it, 400
// InvalidArgument for a value that is neither a SHA-256 nor one of the
// UNSIGNED/STREAMING markers).
func headerPayloadHash(h http.Header) (string, error) {
	vs := h["X-Amz-Content-Sha256"]
	switch {
	case len(vs) == 0:
		return "", malformed(codeInvalidRequest, "missing required header for this request: x-amz-content-sha256")
	case len(vs) > 1 || !validPayloadHash(vs[0]):
		return "", malformed(codeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) or a valid sha256 value")
	}
	return vs[0], nil
}

// requestPath is the path exactly as the client sent it (still escaped):
// S3 signs that string, so it must not be decoded and re-encoded.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if !strings.HasPrefix(p, "/") { // absolute-form, "*", or a request built in a test
		p = r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		p = "/"
	}
	return p
}

// collectHeaders fills in.headers with the values of the signed headers,
// refuses a request whose signed headers are missing or whose x-amz-*
// headers are not all signed, and decides whether the SDK signer can
// reproduce the client's canonical headers.
func collectHeaders(r *http.Request, in *signingInput) error {
	signed := make(map[string]bool, len(in.signedHeaders))
	in.headers = make(map[string][]string, len(in.signedHeaders))
	for _, name := range in.signedHeaders {
		signed[name] = true
		var vals []string
		switch name {
		case "host":
			if r.Host != "" {
				vals = []string{r.Host}
			}
		case "transfer-encoding":
			// net/http moves it out of r.Header.
			if len(r.TransferEncoding) > 0 {
				vals = []string{strings.Join(r.TransferEncoding, ",")}
			}
		default:
			vals = r.Header[textproto.CanonicalMIMEHeaderKey(name)]
		}
		if vals == nil {
			return mismatch("the signed header " + quote(name) + " is not in the request")
		}
		in.headers[name] = vals
	}
	var unsigned []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") && !signed[lk] {
			unsigned = append(unsigned, lk)
		}
	}
	if len(unsigned) > 0 {
		sort.Strings(unsigned)
		return headersNotSigned(strings.Join(unsigned, ","))
	}
	in.sdkCanSign = sdkCanSign(in)
	return nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
