package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/gateway/internal/sigv4"
)

// Gateway is one node's S3 endpoint. It is an http.Handler; Serve runs it
// on a listener with the limits of its Config.
type Gateway struct {
	cfg     Config
	cluster Cluster
	store   Store
	writer  Writer // nil: every write answers NotImplemented
	// decodeBody turns a PutObject or UploadPart request body into the
	// object's bytes, verified (see bodyDecoder).
	decodeBody bodyDecoder
	lister     *listing.Lister
	verifier   *sigv4.Verifier // nil with AuthNone
	metrics    *metrics
	log        *slog.Logger
	srv        *http.Server
	conns      newConns
}

// Option adds an optional part to a Gateway.
type Option func(*Gateway)

// WithWriter serves the S3 write operations (PutObject, multipart
// uploads, CopyObject, DeleteObject(s)) through w. Without it, or with a
// nil w, every write answers NotImplemented.
func WithWriter(w Writer) Option { return func(g *Gateway) { g.writer = w } }

// New builds a gateway serving reads through cluster and listings from
// store.
func New(cfg Config, cluster Cluster, store Store, opts ...Option) (*Gateway, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cluster == nil || store == nil {
		return nil, fmt.Errorf("%w: a cluster and a store are required", ErrConfig)
	}
	g := &Gateway{cfg: cfg, cluster: cluster, store: store, log: cfg.Logger, decodeBody: decodePayload}
	for _, o := range opts {
		o(g)
	}
	var err error
	if g.lister, err = listing.New(store, listing.Config{TTL: cfg.SyncInterval, Now: cfg.Now}); err != nil {
		return nil, fmt.Errorf("gateway: listing: %w", err)
	}
	if cfg.Auth == AuthSigV4 {
		if g.verifier, err = sigv4.New(sigv4.Config{Keys: cfg.Keys, MaxSkew: cfg.MaxClockSkew, Now: cfg.Now}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if g.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	g.srv = &http.Server{
		Handler:           g,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		ConnState:         g.conns.track,
	}
	return g, nil
}

// Serve answers S3 requests on l until Shutdown or Close.
func (g *Gateway) Serve(l net.Listener) error {
	err := g.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight.
// Connections that never sent a request are closed at once: net/http would
// wait up to 5 s for them (it counts a new connection as idle only after
// 5 s), holding up a node's graceful stop for nothing.
func (g *Gateway) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- g.srv.Shutdown(ctx) }()
	g.conns.closeNew()
	return <-done
}

// Close stops at once, closing every connection.
func (g *Gateway) Close() error { return g.srv.Close() }

// request is one S3 request being served.
type request struct {
	g           *Gateway
	ctx         context.Context
	w           http.ResponseWriter
	r           *http.Request
	query       url.Values
	id          string // x-amz-request-id
	readID      uint64 // the same id as the node's read id, in its logs
	rt          route
	cred        sigv4.Credential // what the request was signed with (zero with AuthNone)
	status      int
	wroteHeader bool
	bytesOut    int64
	bytesIn     int64 // request body bytes read
}

func (q *request) path() string { return q.rt.bucket + "/" + q.rt.key }

// writeHeader sends the status line and headers (once).
func (q *request) writeHeader(status int) {
	if q.wroteHeader {
		return
	}
	q.wroteHeader = true
	q.status = status
	q.w.WriteHeader(status)
}

// newRequestID returns an id in S3's form, 16 upper-case hex digits, and
// the number it writes: GETs pass it to the node as the read's id, so the
// nodes' logs name the same id as the client's x-amz-request-id.
func newRequestID() (string, uint64) {
	n := rand.Uint64() | 1 // a read id is never 0
	return fmt.Sprintf("%016X", n), n
}

// ServeHTTP serves one S3 request: request id, bounds, the route, the
// signature (before anything reaches the cluster or the under-store), the
// operation, then the metrics and the log line.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{g: g, ctx: r.Context(), w: w, r: r, rt: route{op: opUnknown}}
	q.id, q.readID = newRequestID()
	w.Header().Set("x-amz-request-id", q.id)
	w.Header().Set("Server", "ringcache")
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &countingBody{ReadCloser: r.Body, n: &q.bytesIn}
	}
	defer g.finish(q, start)
	err := g.serve(q)
	if err == nil {
		return
	}
	e := toS3(err, nil)
	if q.wroteHeader {
		// The body had started: all a client can be told is that it is
		// short, by the connection closing before Content-Length.
		g.log.Warn("s3 response cut short", "request_id", q.id, "op", q.rt.op, "path", r.URL.Path, "err", err)
		q.status = statusAborted
		panic(http.ErrAbortHandler)
	}
	q.status = e.Status
	q.bytesOut = writeError(w, r, e, q.id)
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	g.log.Log(q.ctx, level, "s3 request failed", "request_id", q.id, "op", q.rt.op, "method", r.Method, "path", r.URL.Path,
		"status", e.Status, "code", e.Code, "err", e)
}

// statusAborted is the metrics code of a response cut short after its
// header (nginx's convention for a client that went away).
const statusAborted = 499

func (g *Gateway) serve(q *request) error {
	r := q.r
	if len(r.RequestURI) > g.cfg.MaxURLBytes {
		return newError("InvalidURI", http.StatusBadRequest, "The request URI is longer than %d bytes.", g.cfg.MaxURLBytes)
	}
	var err error
	if q.query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		return newError("InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI: %v", err)
	}
	q.rt = routeOf(r, q.query)
	if g.verifier != nil {
		if q.cred, err = g.verifier.Verify(r); err != nil {
			return err
		}
	}
	if q.rt.err != nil {
		return q.rt.err
	}
	if !q.rt.implemented || (q.rt.write && g.writer == nil) {
		return errNotImplemented(q.rt.op)
	}
	switch q.rt.op {
	case opGetObject:
		return g.getObject(q)
	case opHeadObject:
		return g.headObject(q)
	case opListBuckets:
		return g.listBuckets(q)
	case opHeadBucket:
		return g.headBucket(q)
	case opGetBucketLocation:
		return g.bucketLocation(q)
	case opListObjects, opListObjectsV2:
		return g.listObjects(q)
	case opPutObject:
		return g.putObject(q)
	case opCopyObject:
		return g.copyObject(q)
	case opDeleteObject:
		return g.deleteObject(q)
	case opDeleteObjects:
		return g.deleteObjects(q)
	case opCreateMultipartUpload:
		return g.createUpload(q)
	case opUploadPart:
		return g.uploadPart(q)
	case opCompleteMultipartUpload:
		return g.completeUpload(q)
	case opAbortMultipartUpload:
		return g.abortUpload(q)
	case opListParts:
		return g.listParts(q)
	case opListMultipartUploads:
		return g.listUploads(q)
	}
	return errNotImplemented(q.rt.op)
}

// finish records the request's metrics and recovers a panic of the
// handler: the client gets InternalError (if nothing was sent yet), the
// stack goes to the log only.
func (g *Gateway) finish(q *request, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			g.metrics.observe(q, start)
			panic(p)
		}
		g.log.Error("s3 handler panic", "request_id", q.id, "op", q.rt.op, "path", q.r.URL.Path, "panic", p, "stack", string(debug.Stack()))
		if !q.wroteHeader {
			e := errInternal(fmt.Errorf("panic: %v", p))
			q.status = e.Status
			q.bytesOut = writeError(q.w, q.r, e, q.id)
		} else {
			q.status = statusAborted
			g.metrics.observe(q, start)
			panic(http.ErrAbortHandler)
		}
	}
	if q.status == 0 {
		q.status = http.StatusOK
	}
	g.metrics.observe(q, start)
	if g.log.Enabled(q.ctx, slog.LevelDebug) {
		g.log.Debug("s3 request", "request_id", q.id, "op", q.rt.op, "method", q.r.Method, "path", q.r.URL.Path,
			"status", q.status, "bytes", q.bytesOut, "bytes_in", q.bytesIn, "duration", time.Since(start),
			// The body's form as signed (a hex digest, UNSIGNED-PAYLOAD,
			// one of the aws-chunked forms): which decoder a write took.
			"content_sha256", q.r.Header.Get("X-Amz-Content-Sha256"))
	}
}

// countingBody counts the request body bytes read, for
// ringcache_s3_bytes_total{direction="in"}: what was read, not what the
// client declared.
type countingBody struct {
	io.ReadCloser
	n *int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}
