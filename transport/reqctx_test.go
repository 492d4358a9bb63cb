package transport

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReqContext(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()

	// Deadline and Err without a timer; Done creates it and closes at the
	// deadline; the watcher hook runs once and is released.
	r := newReqContext(parent, time.Now().Add(50*time.Millisecond))
	var waits int
	var released <-chan struct{}
	r.onWait = func(_ context.CancelFunc, rel <-chan struct{}) { waits++; released = rel }
	if d, ok := r.Deadline(); !ok || time.Until(d) > 50*time.Millisecond {
		t.Fatalf("Deadline() = %v, %v", d, ok)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err before the deadline: %v", err)
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed at the deadline")
	}
	_ = r.Done()
	if waits != 1 || !errors.Is(r.Err(), context.DeadlineExceeded) {
		t.Fatalf("waits=%d err=%v", waits, r.Err())
	}
	r.release()
	select {
	case <-released:
	default:
		t.Fatal("release did not release the watcher")
	}

	// Past the deadline without a timer: Err reports it.
	r2 := newReqContext(parent, time.Now().Add(-time.Millisecond))
	if !errors.Is(r2.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err past the deadline: %v", r2.Err())
	}
	r2.release()

	// The parent's cancellation reaches a child context (no timer yet).
	r3 := newReqContext(parent, time.Now().Add(time.Hour))
	child, cancelChild := context.WithCancel(r3)
	defer cancelChild()
	cancelParent()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("parent cancellation did not reach the child")
	}
	if !errors.Is(r3.Err(), context.Canceled) {
		t.Fatalf("Err after the parent was cancelled: %v", r3.Err())
	}
	r3.release()

	// Done asked for after release: already done, no watcher started.
	r4 := newReqContext(context.Background(), time.Now().Add(time.Hour))
	r4.onWait = func(context.CancelFunc, <-chan struct{}) { t.Error("watcher started after release") }
	r4.release()
	select {
	case <-r4.Done():
	default:
		t.Fatal("Done after release is not closed")
	}
}
