// Package gateway is ringcache's S3-compatible HTTP front end (CONTRACT.md,
// "S3 gateway"). Every node may run one; any gateway answers for any object
// because it serves GETs through its node's read path, which forwards to
// the owner: a client may use one node or a load balancer over all of them.
//
// What it serves: GetObject (every single-range form), HeadObject,
// conditional requests, response-* overrides, ListObjectsV2 and v1,
// ListBuckets, HeadBucket and GetBucketLocation, path-style
// (/bucket/key is the ringcache path bucket/key). Given a Writer
// (WithWriter), also the writes: PutObject, the multipart upload
// operations, CopyObject, DeleteObject and DeleteObjects, each one call of
// the Writer, which routes it to the path's owner. Every other operation
// (UploadPartCopy included) is an S3 NotImplemented error. After each
// write the gateway drops its cached listing pages that could show the
// key; ObjectChanged does the same for writes served by other nodes.
//
// Where things are: server.go is the HTTP entry (request ids, limits,
// panics, authentication, metrics, dispatch); route.go names the S3
// operation of a request; object.go serves GetObject and HeadObject;
// body.go turns the node's read into the HTTP body (sendfile for pages
// cached here, streamed for pages from the owner); rangespec.go and
// conditional.go parse Range and the If-* headers; bucket.go serves the
// bucket and listing operations through internal/listing; errors.go writes
// S3 XML errors and maps ringcache errors to S3 codes. The writes:
// write.go (the body and the listing cache), body_decode.go (the request
// body through internal/payload: plain or aws-chunked, verified as it
// streams), put.go, multipart.go and
// multipart_xml.go, copy.go, delete.go and delete_xml.go. SigV4 is checked by
// internal/sigv4 with aws-sdk-go-v2's signer.
//
// The gateway keeps no global state; several run in one process (tests,
// `ringcache dev`).
package gateway
