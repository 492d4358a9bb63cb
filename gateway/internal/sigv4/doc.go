// Package sigv4 verifies AWS Signature Version 4 on the S3 gateway's
// incoming requests: the header form (Authorization: AWS4-HMAC-SHA256 ...)
// and presigned URLs (X-Amz-Algorithm ... X-Amz-Signature in the query),
// against the static keys of --s3-keys. It owns parsing the client's
// authentication, the clock checks and the signature comparison; it reads
// no body (the write path checks payload hashes and aws-chunked chunk
// signatures, with SigningKey and Credential.Signature) and knows nothing
// of S3 operations or XML.
//
// # How the signature is computed
//
// The expected signature comes from aws-sdk-go-v2's signer
// (github.com/aws/aws-sdk-go-v2/aws/signer/v4): Verify rebuilds the request
// from what the client sent — same method, the path exactly as sent (S3
// does not escape it again: DisableURIPathEscaping), the same query (minus
// X-Amz-Signature for presigned URLs), only the headers named in
// SignedHeaders, Host as received — and signs it with SignHTTP (payload hash
// from x-amz-content-sha256) or PresignHTTP (UNSIGNED-PAYLOAD, or the URL's
// X-Amz-Content-Sha256) at the request's own date, region and service. The
// signatures are compared with crypto/subtle.ConstantTimeCompare. See
// sdkSignature for how the rebuilt request makes the signer sign headers it
// skips by default (User-Agent, Expect, Transfer-Encoding, X-Amzn-Trace-Id)
// when a client signed them.
//
// Two canonical forms are beyond that signer, and for them only a small
// implementation of the specification's canonical request is used
// (canonicalSignature, checked against the SDK in tests): a signed
// "content-length: 0" (the signer signs content-length only when > 0) and
// a header-form request dated by Date rather than X-Amz-Date (the signer
// always signs x-amz-date).
//
// # Rules, as S3 applies them
//
//   - host must be signed; every signed header must be present; every
//     x-amz-* header present must be signed (ErrHeadersNotSigned).
//   - The credential scope is ACCESS/YYYYMMDD/REGION/s3/aws4_request; its
//     date must be the request date's day. Any region is accepted:
//     ringcache has one namespace whatever region a client is set to.
//   - Header form: x-amz-content-sha256 is required (S3: 400 InvalidRequest
//     "Missing required header for this request: x-amz-content-sha256") and
//     must be a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* marker; its
//     value is signed as is, whatever the method.
//   - Header form: a date more than Config.MaxSkew from the node's clock is
//     RequestTimeTooSkewed. Presigned: more than MaxSkew in the future is
//     RequestTimeTooSkewed, past X-Amz-Date + X-Amz-Expires is expired
//     (AccessDenied), X-Amz-Expires above Config.MaxExpires is malformed.
//   - Bounded input: an Authorization header over MaxAuthorizationLen, or
//     more than MaxSignedHeaders signed headers, is malformed.
//   - An unknown access key is signed with a stand-in secret before it is
//     refused, so it costs what a known one does.
//   - Session tokens (X-Amz-Security-Token) are not checked: ringcache has
//     only static keys, and the token is covered by the signature like any
//     other signed header or parameter.
package sigv4
