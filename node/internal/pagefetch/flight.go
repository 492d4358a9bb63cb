package pagefetch

import "context"

// Flight is one page being fetched. Its fields are set once, before ready
// is closed, and read-only after.
type Flight struct {
	ready  chan struct{}
	stored chan struct{} // closed once the page is written to the store (or failed, or never to be)
	data   []byte
	err    error
	source string // where the bytes came from (ReadRangeFunc's answer, or SourceLocal)
	readID uint64 // ReadID of the read that started it (0: none)
}

func newFlight(readID uint64) *Flight {
	return &Flight{ready: make(chan struct{}), stored: make(chan struct{}), readID: readID}
}

// Wait returns the page's bytes (read-only, shared by every waiter) or the
// fetch's error, or ctx's error if ctx ends first. A waiter that gives up
// does not end the fetch.
func (f *Flight) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.ready:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stored is closed once the page is written to the store (or its fetch or
// write failed, or it was fetched not to be cached).
func (f *Flight) Stored() <-chan struct{} { return f.stored }

// Source is where the page's bytes came from. Valid once Wait returned
// without error.
func (f *Flight) Source() string { return f.source }

// ReadID is the ReadID of the read that started the flight (0: none).
func (f *Flight) ReadID() uint64 { return f.readID }
