package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ringcache/ringcache/objpath"
)

// S3 operation names: the `op` label of the metrics and what logs say.
const (
	opListBuckets       = "ListBuckets"
	opHeadBucket        = "HeadBucket"
	opGetBucketLocation = "GetBucketLocation"
	opListObjects       = "ListObjects"
	opListObjectsV2     = "ListObjectsV2"
	opGetObject         = "GetObject"
	opHeadObject        = "HeadObject"
	opUnknown           = "Unknown"

	// Writes (served with a Writer, see WithWriter).
	opPutObject               = "PutObject"
	opCopyObject              = "CopyObject"
	opDeleteObject            = "DeleteObject"
	opDeleteObjects           = "DeleteObjects"
	opCreateMultipartUpload   = "CreateMultipartUpload"
	opUploadPart              = "UploadPart"
	opUploadPartCopy          = "UploadPartCopy"
	opCompleteMultipartUpload = "CompleteMultipartUpload"
	opAbortMultipartUpload    = "AbortMultipartUpload"
	opListParts               = "ListParts"
	opListMultipartUploads    = "ListMultipartUploads"
)

// copySourceHeader names the source of CopyObject and UploadPartCopy.
const copySourceHeader = "X-Amz-Copy-Source"

// route is what a request asks for: the S3 operation and its target.
type route struct {
	op          string
	bucket, key string // key "" for bucket and service operations
	implemented bool
	write       bool     // needs the Writer: NotImplemented without one
	err         *s3Error // a target that is refused whatever the operation
}

// subresource is a query parameter that names an S3 API of its own.
type subresource struct{ param, name string }

// bucketSubresources name S3's bucket configuration APIs: a GET, PUT or
// DELETE of /bucket?acl and so on is that API, not a listing.
var bucketSubresources = []subresource{
	{"acl", "BucketAcl"},
	{"policy", "BucketPolicy"},
	{"versioning", "BucketVersioning"},
	{"uploads", "ListMultipartUploads"},
	{"tagging", "BucketTagging"},
	{"lifecycle", "BucketLifecycleConfiguration"},
	{"cors", "BucketCors"},
	{"website", "BucketWebsite"},
	{"notification", "BucketNotificationConfiguration"},
	{"logging", "BucketLogging"},
	{"replication", "BucketReplication"},
	{"encryption", "BucketEncryption"},
	{"object-lock", "ObjectLockConfiguration"},
	{"versions", "ListObjectVersions"},
	{"accelerate", "BucketAccelerateConfiguration"},
	{"requestPayment", "BucketRequestPayment"},
	{"ownershipControls", "BucketOwnershipControls"},
	{"publicAccessBlock", "PublicAccessBlock"},
	{"analytics", "BucketAnalyticsConfiguration"},
	{"metrics", "BucketMetricsConfiguration"},
	{"inventory", "BucketInventoryConfiguration"},
	{"intelligent-tiering", "BucketIntelligentTieringConfiguration"},
	{"policyStatus", "BucketPolicyStatus"},
	{"delete", "DeleteObjects"},
}

// objectSubresources name S3's object APIs other than plain GET and HEAD.
var objectSubresources = []subresource{
	{"acl", "ObjectAcl"},
	{"tagging", "ObjectTagging"},
	{"torrent", "ObjectTorrent"},
	{"retention", "ObjectRetention"},
	{"legal-hold", "ObjectLegalHold"},
	{"attributes", "GetObjectAttributes"},
	{"uploadId", "MultipartUpload"},
	{"uploads", "CreateMultipartUpload"},
	{"partNumber", "GetObjectPart"},
	{"restore", "RestoreObject"},
	{"select", "SelectObjectContent"},
	{"versionId", "ObjectVersion"},
}

// routeOf names the operation of a path-style request: / is the service,
// /bucket a bucket, /bucket/key an object. It only reads the method, path
// and query; the target's validity is checked here too, so a refused
// target never reaches the under-store.
func routeOf(r *http.Request, q url.Values) route {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "" {
		if r.Method == http.MethodGet {
			return route{op: opListBuckets, implemented: true}
		}
		return route{op: methodOp(r.Method, "Service")}
	}
	bucket, key, hasKey := strings.Cut(p, "/")
	rt := route{bucket: bucket, key: key}
	if err := objpath.ValidatePrefix(bucket + "/"); err != nil || strings.ContainsAny(bucket, "/") {
		rt.err = errInvalidArgument("invalid bucket name %q", bucket)
	}
	if !hasKey || key == "" {
		rt.key = ""
		return bucketRoute(rt, r.Method, q)
	}
	if rt.err == nil {
		if err := objpath.Validate(bucket + "/" + strings.TrimSuffix(key, "/")); err != nil {
			rt.err = errInvalidArgument("invalid key %q: path elements must not be empty, \".\" or \"..\" (%v)", key, err)
		}
	}
	if w, ok := objectWriteRoute(rt, r, q); ok {
		return w
	}
	return objectRoute(rt, r.Method, q)
}

// objectWriteRoute names the object writes: the multipart subresources
// (uploads, uploadId), then PUT (a copy with x-amz-copy-source) and
// DELETE without another subresource. ok is false for everything else.
func objectWriteRoute(rt route, r *http.Request, q url.Values) (route, bool) {
	write := func(op string) (route, bool) {
		rt.op, rt.implemented, rt.write = op, true, true
		return rt, true
	}
	copying := r.Header.Get(copySourceHeader) != ""
	switch {
	case q.Has("uploads") && r.Method == http.MethodPost:
		return write(opCreateMultipartUpload)
	case q.Has("uploadId"):
		switch r.Method {
		case http.MethodPut:
			if copying {
				rt.op = opUploadPartCopy
				return rt, true
			}
			return write(opUploadPart)
		case http.MethodPost:
			return write(opCompleteMultipartUpload)
		case http.MethodDelete:
			return write(opAbortMultipartUpload)
		case http.MethodGet:
			return write(opListParts)
		}
		return rt, false
	}
	for _, sr := range objectSubresources {
		if q.Has(sr.param) {
			return rt, false
		}
	}
	switch {
	case r.Method == http.MethodPut && copying:
		return write(opCopyObject)
	case r.Method == http.MethodPut:
		return write(opPutObject)
	case r.Method == http.MethodDelete:
		return write(opDeleteObject)
	}
	return rt, false
}

func bucketRoute(rt route, method string, q url.Values) route {
	switch {
	case q.Has("uploads") && method == http.MethodGet:
		rt.op, rt.implemented, rt.write = opListMultipartUploads, true, true
		return rt
	case q.Has("delete") && method == http.MethodPost:
		rt.op, rt.implemented, rt.write = opDeleteObjects, true, true
		return rt
	}
	for _, sr := range bucketSubresources {
		if q.Has(sr.param) {
			rt.op = methodOp(method, sr.name)
			return rt
		}
	}
	switch {
	case method == http.MethodGet && q.Has("location"):
		rt.op, rt.implemented = opGetBucketLocation, true
	case method == http.MethodGet && q.Get("list-type") == "2":
		rt.op, rt.implemented = opListObjectsV2, true
	case method == http.MethodGet:
		rt.op, rt.implemented = opListObjects, true
	case method == http.MethodHead:
		rt.op, rt.implemented = opHeadBucket, true
	case method == http.MethodPut:
		rt.op = "CreateBucket"
	case method == http.MethodDelete:
		rt.op = "DeleteBucket"
	default:
		rt.op = methodOp(method, "Bucket")
	}
	return rt
}

func objectRoute(rt route, method string, q url.Values) route {
	for _, sr := range objectSubresources {
		if q.Has(sr.param) {
			rt.op = methodOp(method, sr.name)
			return rt
		}
	}
	switch method {
	case http.MethodGet:
		rt.op, rt.implemented = opGetObject, true
	case http.MethodHead:
		rt.op, rt.implemented = opHeadObject, true
	case http.MethodPut:
		rt.op = "PutObject"
	case http.MethodDelete:
		rt.op = "DeleteObject"
	default:
		rt.op = methodOp(method, "Object")
	}
	return rt
}

// methodOp names an unsupported operation for the NotImplemented answer
// and the metrics: GET /b?acl is GetBucketAcl, PUT is PutBucketAcl.
func methodOp(method, name string) string {
	switch method {
	case http.MethodGet:
		if strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "Select") {
			return name
		}
		return "Get" + name
	case http.MethodPut:
		return "Put" + name
	case http.MethodDelete:
		if strings.HasPrefix(name, "Delete") {
			return name
		}
		return "Delete" + name
	case http.MethodPost:
		if name == "DeleteObjects" || name == "CreateMultipartUpload" || name == "RestoreObject" || name == "SelectObjectContent" {
			return name
		}
		return "Post" + name
	case http.MethodHead:
		return "Head" + name
	}
	return opUnknown
}
