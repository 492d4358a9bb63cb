package transport

import (
	"context"
	"io"
)

// BodyError is a SendPut failure of the body itself (reading it, or the
// caller's end check), as opposed to the node's answer: the caller says
// what it means for its own callers.
type BodyError struct {
	Got int64 // body bytes taken before it failed
	Err error // io.ErrUnexpectedEOF/io.EOF for a short body, or the reader's error
}

func (e *BodyError) Error() string { return "write body: " + e.Err.Error() }

func (e *BodyError) Unwrap() error { return e.Err }

// SendPut sends one Put stream (an UploadPart when hdr.UploadID is set):
// the header, size bytes of body in MaxWriteChunk messages, then End, and
// returns the node's answer. With atEnd set it runs after the last body
// byte and before End; its error ends the stream too. Any failure before
// End ends the stream without it, so the node aborts the write. started
// reports that body bytes were taken: the write cannot be sent elsewhere.
// The node's errors are its gRPC statuses; the body's are *BodyError.
func SendPut(ctx context.Context, wc WriteClient, hdr *PutMessage, body io.Reader, size int64, atEnd func() error) (_ *WriteResponse, started bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel() // a stream that ends without End is aborted by the node
	open := wc.Put
	if hdr.UploadID != "" {
		open = wc.UploadPart
	}
	st, err := open(sctx)
	if err != nil {
		return nil, false, err
	}
	// A failed Send means the stream is over: its status says why.
	closeErr := func(err error) error {
		if _, rerr := st.CloseAndRecv(); rerr != nil {
			return rerr
		}
		return err
	}
	if err := st.Send(hdr); err != nil {
		return nil, false, closeErr(err)
	}
	buf := make([]byte, min(size, MaxWriteChunk))
	for left := size; left > 0; {
		k, rerr := io.ReadFull(body, buf[:min(left, int64(len(buf)))])
		if rerr != nil {
			return nil, true, &BodyError{Got: size - left + int64(k), Err: rerr}
		}
		left -= int64(k)
		if err := st.Send(&PutMessage{Data: buf[:k]}); err != nil {
			return nil, true, closeErr(err)
		}
	}
	if atEnd != nil {
		if err := atEnd(); err != nil {
			return nil, true, &BodyError{Got: size, Err: err}
		}
	}
	if err := st.Send(&PutMessage{End: true}); err != nil {
		return nil, true, closeErr(err)
	}
	resp, err := st.CloseAndRecv()
	return resp, true, err
}
