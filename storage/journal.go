package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Journal files in JournalDir:
//
//	seg-<16 hex>.log   segment N: segmentMagic, then frames
//	snap-<16 hex>.snap snapshot N: snapshotMagic, frames, a SnapEnd frame;
//	                   holds the whole index as of the start of segment N
//	*.tmp              a snapshot being written (deleted at Open)
const (
	segPrefix  = "seg-"
	segExt     = ".log"
	snapPrefix = "snap-"
	snapExt    = ".snap"
)

func segName(dir string, n uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%s%016x%s", segPrefix, n, segExt))
}

func snapName(dir string, n uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%s%016x%s", snapPrefix, n, snapExt))
}

func parseSeq(base, prefix, ext string) (uint64, bool) {
	if !strings.HasPrefix(base, prefix) || !strings.HasSuffix(base, ext) {
		return 0, false
	}
	s := strings.TrimSuffix(strings.TrimPrefix(base, prefix), ext)
	if len(s) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 64)
	return n, err == nil
}

// CorruptionError reports a journal record that cannot be trusted at a
// place where it cannot be a torn tail: in a snapshot, in a segment that is
// not the last, or followed by valid records. It wraps ErrBadRecord.
type CorruptionError struct {
	File   string // segment or snapshot file name
	Offset int64  // byte offset of the bad frame in the file
	Err    error  // detail; wraps ErrBadRecord
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("storage: journal corruption in %s at offset %d: %v", e.File, e.Offset, e.Err)
}

// Unwrap returns the detail, which wraps ErrBadRecord.
func (e *CorruptionError) Unwrap() error { return e.Err }

func frameErr(st frameStatus) error {
	switch st {
	case frameShort:
		return fmt.Errorf("%w: truncated frame", ErrBadRecord)
	case frameBadLength:
		return fmt.Errorf("%w: bad frame length", ErrBadRecord)
	default:
		return fmt.Errorf("%w: frame CRC mismatch", ErrBadRecord)
	}
}

// validFrameAfter reports whether any offset of buf starts a frame with a
// good CRC and a decodable record: if so, a bad frame before it is
// corruption in the middle, not a torn tail.
func validFrameAfter(buf []byte) bool {
	var r record
	for i := 0; i+frameHeaderSize+minRecordSize <= len(buf); i++ {
		if buf[i] == 0 && buf[i+1] == 0 && buf[i+2] == 0 && buf[i+3] == 0 {
			continue // length 0: the common all-zero tail
		}
		if p, _, st := nextFrame(buf[i:]); st == frameOK && decodeRecord(p, &r) == nil {
			return true
		}
	}
	return false
}

// scanFrames decodes the frames of buf (a file's bytes after its magic,
// starting at file offset base) and calls fn for each record. When
// tornOK, a bad frame with no valid frame after it ends the scan: valid is
// the length of the good prefix and torn is true. Otherwise, or when valid
// frames follow, it returns a *CorruptionError. Errors from fn are returned
// as they are.
func scanFrames(buf []byte, name string, base int64, tornOK bool, fn func(*record) error) (valid int, torn bool, err error) {
	var r record
	off := 0
	for off < len(buf) {
		p, n, st := nextFrame(buf[off:])
		if st != frameOK {
			if tornOK && !validFrameAfter(buf[off+1:]) {
				return off, true, nil
			}
			return off, false, &CorruptionError{File: name, Offset: base + int64(off), Err: frameErr(st)}
		}
		if err := decodeRecord(p, &r); err != nil {
			// The CRC matched, so these are bytes we wrote: not a torn write.
			return off, false, &CorruptionError{File: name, Offset: base + int64(off), Err: err}
		}
		if err := fn(&r); err != nil {
			return off, false, err
		}
		off += n
	}
	return off, false, nil
}

// readAll reads a whole file.
func readAll(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// mapFile maps a whole file read-only (no copy, no zeroing: replay of a
// large segment is dominated by memory traffic otherwise). The caller must
// call release and must not keep references into the bytes after it.
func mapFile(fsys FS, name string) (data []byte, release func(), err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	if st.Size() > 1<<40 {
		return nil, nil, fmt.Errorf("storage: %s: implausible size %d", name, st.Size())
	}
	data, err = mmapReadOnly(int(f.Fd()), int(st.Size()))
	if err != nil {
		// Fall back to reading (e.g. a filesystem without mmap).
		buf, rerr := readAll(fsys, name)
		if rerr != nil {
			return nil, nil, rerr
		}
		return buf, func() {}, nil
	}
	return data, func() { munmap(data) }, nil
}

// journalFiles lists the journal directory.
type journalFiles struct {
	snaps []uint64 // ascending
	segs  []uint64 // ascending
	tmps  []string
}

func listJournal(fsys FS, dir string) (journalFiles, error) {
	var jf journalFiles
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return jf, err
	}
	for _, e := range ents {
		name := e.Name()
		if n, ok := parseSeq(name, segPrefix, segExt); ok {
			jf.segs = append(jf.segs, n)
		} else if n, ok := parseSeq(name, snapPrefix, snapExt); ok {
			jf.snaps = append(jf.snaps, n)
		} else if strings.HasSuffix(name, tmpExt) {
			jf.tmps = append(jf.tmps, filepath.Join(dir, name))
		}
	}
	sort.Slice(jf.segs, func(a, b int) bool { return jf.segs[a] < jf.segs[b] })
	sort.Slice(jf.snaps, func(a, b int) bool { return jf.snaps[a] < jf.snaps[b] })
	return jf, nil
}

// journal appends framed records to the current segment with group commit:
// appenders queue bytes under mu and wait; one flusher goroutine writes
// everything queued with one write and, per the sync policy, one fsync.
type journal struct {
	fs       FS
	dir      string
	always   bool
	interval time.Duration
	segBytes int64

	mu       sync.Mutex
	cond     sync.Cond
	buf      []byte // queued frames
	appended uint64 // sequence number of the last queued frame
	written  uint64 // last sequence number written to the OS
	synced   uint64 // last sequence number fsynced
	err      error  // sticky: after a failed write or fsync nothing is trusted
	closing  bool
	rolls    []chan rollResult
	segSizes map[uint64]int64 // live segments -> bytes

	kick chan struct{}
	done chan struct{}

	// Owned by the flusher goroutine.
	f    File
	seq  uint64
	size int64
}

type rollResult struct {
	seq uint64
	err error
}

func openJournal(fsys FS, dir string, seq uint64, policy SyncPolicy, segBytes int64, live map[uint64]int64) (*journal, error) {
	j := &journal{
		fs: fsys, dir: dir, always: policy == SyncAlways, interval: time.Duration(policy),
		segBytes: segBytes, segSizes: live, kick: make(chan struct{}, 1), done: make(chan struct{}),
	}
	j.cond.L = &j.mu
	if err := j.create(seq); err != nil {
		return nil, err
	}
	go j.run()
	return j, nil
}

// create starts segment seq and makes its existence durable.
func (j *journal) create(seq uint64) error {
	name := segName(j.dir, seq)
	f, err := j.fs.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("storage: creating journal segment: %w", err)
	}
	if _, err := f.Write([]byte(segmentMagic)); err != nil {
		f.Close()
		return fmt.Errorf("storage: writing journal segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("storage: syncing journal segment: %w", err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		f.Close()
		return fmt.Errorf("storage: syncing journal dir: %w", err)
	}
	j.f, j.seq, j.size = f, seq, fileMagicSize
	j.mu.Lock()
	j.segSizes[seq] = fileMagicSize
	j.mu.Unlock()
	return nil
}

// append queues one or more frames and returns the sequence number to wait
// for.
func (j *journal) append(frames []byte) (uint64, error) {
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return 0, j.err
	}
	if j.closing {
		j.mu.Unlock()
		return 0, ErrClosed
	}
	j.buf = append(j.buf, frames...)
	j.appended++
	seq := j.appended
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return seq, nil
}

// wait returns once frame seq is durable per the policy: fsynced with
// SyncAlways, written to the OS (surviving a process crash) otherwise.
func (j *journal) wait(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for {
		if j.err != nil {
			return j.err
		}
		done := j.written
		if j.always {
			done = j.synced
		}
		if done >= seq {
			return nil
		}
		j.cond.Wait()
	}
}

// roll ends the current segment (synced) and starts a new one; records
// queued after roll returns go to the new segment or later.
func (j *journal) roll() (uint64, error) {
	c := make(chan rollResult, 1)
	j.mu.Lock()
	if j.err != nil || j.closing {
		err := j.err
		if err == nil {
			err = ErrClosed
		}
		j.mu.Unlock()
		return 0, err
	}
	j.rolls = append(j.rolls, c)
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	r := <-c
	return r.seq, r.err
}

// liveBytes is the size of the segments not yet covered by a snapshot.
func (j *journal) liveBytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var n int64
	for _, s := range j.segSizes {
		n += s
	}
	return n
}

// retire forgets segments below seq (deleted by the caller).
func (j *journal) retire(seq uint64) {
	j.mu.Lock()
	for s := range j.segSizes {
		if s < seq {
			delete(j.segSizes, s)
		}
	}
	j.mu.Unlock()
}

func (j *journal) run() {
	defer close(j.done)
	var tick <-chan time.Time
	if !j.always {
		t := time.NewTicker(j.interval)
		defer t.Stop()
		tick = t.C
	}
	var spare []byte
	dirty := false
	for {
		ticked := false
		select {
		case <-j.kick:
		case <-tick:
			ticked = true
		}
		j.mu.Lock()
		buf, seq := j.buf, j.appended
		j.buf = spare[:0]
		rolls := j.rolls
		j.rolls = nil
		closing := j.closing
		failed := j.err != nil
		j.mu.Unlock()

		var err error
		if failed {
			err = errors.New("storage: journal failed earlier")
		}
		if err == nil && len(buf) > 0 {
			if _, err = j.f.Write(buf); err != nil {
				err = fmt.Errorf("storage: journal write: %w", err)
			}
			j.size += int64(len(buf))
			dirty = true
		}
		needRoll := len(rolls) > 0 || j.size >= j.segBytes
		synced := false
		if err == nil && dirty && (j.always || ticked || closing || needRoll) {
			if err = j.f.Sync(); err != nil {
				err = fmt.Errorf("storage: journal fsync: %w", err)
			} else {
				dirty, synced = false, true
			}
		}
		if err == nil && needRoll && !closing {
			j.mu.Lock()
			j.segSizes[j.seq] = j.size
			j.mu.Unlock()
			if err = j.f.Close(); err == nil {
				err = j.create(j.seq + 1)
			}
		}
		j.mu.Lock()
		if err != nil && j.err == nil {
			j.err = err
		}
		if j.err == nil {
			j.written = seq
			if synced || !dirty {
				j.synced = seq
			}
			j.segSizes[j.seq] = j.size
		}
		j.cond.Broadcast()
		cur := j.seq
		j.mu.Unlock()
		for _, c := range rolls {
			if err == nil && closing {
				c <- rollResult{err: ErrClosed}
				continue
			}
			c <- rollResult{seq: cur, err: err}
		}
		spare = buf
		if closing {
			return
		}
	}
}

// close flushes and fsyncs everything queued and closes the segment.
func (j *journal) close() error {
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		<-j.done
		return nil
	}
	j.closing = true
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	<-j.done
	cerr := j.f.Close()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range j.rolls {
		c <- rollResult{err: ErrClosed}
	}
	j.rolls = nil
	if j.err != nil {
		return j.err
	}
	return cerr
}

// snapshotWriter streams the records of a snapshot to a temporary file.
type snapshotWriter struct {
	f     File
	buf   []byte
	count uint64
	err   error
}

func (w *snapshotWriter) add(frame []byte) {
	w.buf = append(w.buf, frame...)
	w.count++
	if len(w.buf) >= 1<<20 {
		w.flush()
	}
}

func (w *snapshotWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.f.Write(w.buf)
	}
	w.buf = w.buf[:0]
}
