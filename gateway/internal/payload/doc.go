// Package payload decodes and verifies the body of an S3 PutObject or
// UploadPart request while it streams: a plain body or an aws-chunked one,
// its x-amz-content-sha256, Content-MD5, x-amz-checksum-* (in a header or
// in the aws-chunked trailer) and the chunk signatures of
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER). It owns the body's
// framing and digests only: the request's own signature is sigv4's (the
// signing key and seed signature come from there, see Spec.SetCredential),
// and what to do with the bytes is the gateway's.
//
// # The guarantee
//
// Every check completes before the object's last byte is returned; on a
// failure the Read that would complete the object returns (0, err). A
// caller that writes the bytes somewhere and commits only after reading
// Size() bytes (io.ReadFull, io.CopyN with an exact size) therefore never
// commits a bad body; for an empty object, which those never Read, call
// Reader.Verify before committing. io.ReadFull drops an error that arrives with a full
// buffer, which is why the last bytes are held back rather than returned
// with the error. Memory is bounded: a 16 KiB read buffer, the hashes and
// at most MaxTrailerLen of trailer; chunk data is hashed as it passes.
//
// # Forms, by x-amz-content-sha256
//
//   - a hex SHA-256: a plain body of Content-Length bytes whose SHA-256
//     must be that (XAmzContentSHA256Mismatch).
//   - UNSIGNED-PAYLOAD or "": a plain body, not hashed unless Content-MD5
//     or x-amz-checksum-* ask for it.
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER (aws-sdk-go-v2's and boto3's
//     default over HTTPS): aws-chunked, no chunk signatures, a trailer.
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD (minio-go over HTTP): aws-chunked,
//     every chunk signed, the final 0-length chunk too.
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same plus a signed
//     trailer.
//
// An aws-chunked body's object size is x-amz-decoded-content-length; the
// sum of its chunk sizes must be exactly that (less: IncompleteBody, more:
// InvalidRequest), and nothing may follow the trailer.
//
// # aws-chunked wire format
//
//	chunk    = SIZE [";chunk-signature=" SIG] CRLF DATA CRLF    SIZE: hex, 1..16 digits, <= MaxChunkSize
//	final    = "0"  [";chunk-signature=" SIG] CRLF
//	trailer  = *( NAME ":" VALUE (CRLF | LF) ) [CRLF] [ "x-amz-trailer-signature:" SIG CRLF ]
//	body     = *chunk final trailer CRLF
//
// SIG is 64 hex digits. Chunk signatures chain from the request's seed
// signature:
//
//	SIG(i) = hex(HMAC-SHA256(signingKey,
//	    "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" +
//	    SIG(i-1) + "\n" + hex(sha256("")) + "\n" + hex(sha256(DATA(i)))))
//
// and the trailer signature follows the final chunk's:
//
//	hex(HMAC-SHA256(signingKey, "AWS4-HMAC-SHA256-TRAILER\n" + amzDate +
//	    "\n" + scope + "\n" + SIG(final) + "\n" +
//	    hex(sha256(concat(NAME ":" VALUE "\n")))))
//
// minio-go ends trailer lines with a bare LF and writes a CRLF before the
// trailer signature, so both are accepted. Signatures are compared in
// constant time. Trailer names must be declared in x-amz-trailer, and every
// declared one must come; S3 allows one checksum per request, in a header
// or in the trailer, and so does this package.
package payload
