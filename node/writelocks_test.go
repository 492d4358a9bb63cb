package node

import (
	"sync"
	"testing"
	"time"
)

// TestWriteLocks: writes of one path wait for each other, writes of
// another path do not, and the map forgets a path nobody holds.
func TestWriteLocks(t *testing.T) {
	var w writeLocks
	unlockA := w.lock("lake/a")
	got := make(chan string, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		u := w.lock("lake/b")
		got <- "b"
		u()
	}()
	go func() {
		defer wg.Done()
		u := w.lock("lake/a")
		got <- "a"
		u()
	}()
	select {
	case v := <-got:
		if v != "b" {
			t.Fatalf("a second writer of lake/a got the lock while the first held it")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a writer of lake/b waited for lake/a's lock")
	}
	unlockA()
	if v := <-got; v != "a" {
		t.Fatalf("got %q, want the waiting writer of lake/a", v)
	}
	wg.Wait()
	if n := len(w.paths); n != 0 {
		t.Fatalf("%d paths still in the lock map", n)
	}
}
