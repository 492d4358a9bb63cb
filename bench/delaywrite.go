package bench

import (
	"context"
	"io"

	"github.com/ringcache/ringcache/understore"
)

// delayMultiStore is a delayStore over a store that also takes multipart
// uploads and copies: the nodes' writes larger than one part (the SDK's
// Put beyond client.Config.PutPartSize, the gateway's UploadPart) pay the
// same delay per request as everything else, instead of failing because
// the wrapper hid the under-store's optional interfaces.
type delayMultiStore struct {
	*delayStore
	mp understore.Multiparter
	cp understore.Copier // nil when the store cannot copy
}

// withWrites returns the delayed store with the optional write interfaces
// of its inner store.
func (s *delayStore) withWrites() understore.Store {
	mp, ok := s.Store.(understore.Multiparter)
	if !ok {
		return s
	}
	cp, _ := s.Store.(understore.Copier)
	if cp == nil {
		return &delayMultiStore{delayStore: s, mp: mp}
	}
	return &delayMultiCopyStore{delayMultiStore{delayStore: s, mp: mp, cp: cp}}
}

func (s *delayMultiStore) CreateUpload(ctx context.Context, path string) (string, error) {
	if err := s.wait(ctx); err != nil {
		return "", err
	}
	return s.mp.CreateUpload(ctx, path)
}

func (s *delayMultiStore) UploadPart(ctx context.Context, path, uploadID string, num int, r io.Reader, size int64) (understore.PartInfo, error) {
	if err := s.wait(ctx); err != nil {
		return understore.PartInfo{}, err
	}
	return s.mp.UploadPart(ctx, path, uploadID, num, r, size)
}

func (s *delayMultiStore) CompleteUpload(ctx context.Context, path, uploadID string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	if err := s.wait(ctx); err != nil {
		return understore.ObjectInfo{}, err
	}
	return s.mp.CompleteUpload(ctx, path, uploadID, parts)
}

func (s *delayMultiStore) AbortUpload(ctx context.Context, path, uploadID string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.mp.AbortUpload(ctx, path, uploadID)
}

func (s *delayMultiStore) ListParts(ctx context.Context, path, uploadID string, marker, limit int) (understore.PartsPage, error) {
	if err := s.wait(ctx); err != nil {
		return understore.PartsPage{}, err
	}
	return s.mp.ListParts(ctx, path, uploadID, marker, limit)
}

func (s *delayMultiStore) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (understore.UploadsPage, error) {
	if err := s.wait(ctx); err != nil {
		return understore.UploadsPage{}, err
	}
	return s.mp.ListUploads(ctx, prefix, delimiter, keyMarker, uploadIDMarker, limit)
}

// delayMultiCopyStore adds Copy.
type delayMultiCopyStore struct{ delayMultiStore }

func (s *delayMultiCopyStore) Copy(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error) {
	if err := s.wait(ctx); err != nil {
		return understore.ObjectInfo{}, err
	}
	return s.cp.Copy(ctx, src, dst, want)
}
