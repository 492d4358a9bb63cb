package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// DeleteObject and DeleteObjects. Deleting a missing key succeeds, as in
// S3 (204, or <Deleted> in a DeleteObjects result); a missing bucket is
// NoSuchBucket.

// deleteWorkers bounds the deletes of one DeleteObjects in flight: each is
// a round trip to the key's owner and the under-store.
const deleteWorkers = 16

func (g *Gateway) deleteObject(q *request) error {
	// Under-stores answer a delete in a missing bucket as done (as of a
	// missing key); S3 answers NoSuchBucket. The bucket list is cached.
	if err := g.requireBucket(q); err != nil {
		return err
	}
	if err := g.deleteKey(q.ctx, q.path()); err != nil {
		return g.notFoundAs(q, err)
	}
	q.writeHeader(http.StatusNoContent)
	return nil
}

// deleteKey deletes one object through the Writer; a missing object is
// no error (a missing bucket still is: its ErrNotFound passes, for the
// caller to tell).
func (g *Gateway) deleteKey(ctx context.Context, path string) error {
	err := g.writer.DeleteObject(ctx, path)
	if err != nil && isNotFound(err) {
		bucket, _, _ := strings.Cut(path, "/")
		if ok, berr := g.lister.BucketExists(ctx, bucket); berr == nil && ok {
			err = nil
		}
	}
	if err == nil {
		g.ObjectChanged(path)
	}
	return err
}

func isNotFound(err error) bool {
	return errors.Is(err, understore.ErrNotFound) || errors.Is(err, transport.ErrNotFound)
}

// deleteObjects serves DeleteObjects (POST /bucket?delete). Its body must
// carry Content-MD5 or an x-amz-checksum-* header, as S3 requires; either
// is verified (with x-amz-content-sha256) before any key is deleted.
func (g *Gateway) deleteObjects(q *request) error {
	if err := g.requireBucket(q); err != nil {
		return err
	}
	data, err := g.deleteBody(q)
	if err != nil {
		return err
	}
	quiet, targets, err := parseDeleteRequest(data)
	if err != nil {
		return err
	}
	errs := g.deleteAll(q, targets)
	var res deleteResult
	for i, t := range targets {
		if errs[i] == nil {
			if !quiet {
				res.Deleted = append(res.Deleted, deletedDoc{Key: t.key})
			}
			continue
		}
		e := toS3(errs[i], nil)
		res.Errors = append(res.Errors, deleteErrorDoc{Key: t.key, Code: e.Code, Message: e.Message})
		g.log.Info("s3 delete of one key failed", "request_id", q.id, "key", t.key, "code", e.Code, "err", e)
	}
	return q.writeXML(res)
}

// deleteBody reads and verifies the Delete document.
func (g *Gateway) deleteBody(q *request) ([]byte, error) {
	h := q.r.Header
	hasChecksum := h.Get("Content-Md5") != ""
	for k := range h {
		if alg, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-"); ok && checksumNames[alg] {
			hasChecksum = true
		}
	}
	if !hasChecksum {
		return nil, errInvalidRequest("Missing required header for this request: Content-MD5")
	}
	return g.readXMLBody(q, q.r.Header, maxDeleteXML)
}

// deleteAll deletes the targets, deleteWorkers at a time; errs[i] is
// target i's error.
func (g *Gateway) deleteAll(q *request, targets []deleteTarget) []error {
	errs := make([]error, len(targets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(deleteWorkers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = g.deleteTarget(q, targets[i])
			}
		}()
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// deleteTarget deletes one key of a DeleteObjects.
func (g *Gateway) deleteTarget(q *request, t deleteTarget) error {
	switch {
	case t.versionID != "":
		return errNotImplemented("DeleteObjects of an object version")
	case t.key == "":
		return newError("UserKeyMustBeSpecified", http.StatusBadRequest, "The key must be specified.")
	}
	path := q.rt.bucket + "/" + t.key
	if err := objpath.Validate(q.rt.bucket + "/" + strings.TrimSuffix(t.key, "/")); err != nil {
		return errInvalidArgument("invalid key %q: path elements must not be empty, \".\" or \"..\" (%v)", t.key, err)
	}
	return g.deleteKey(q.ctx, path)
}
