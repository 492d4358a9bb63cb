package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// WriteThrough is the write-through workload's wiring: what it writes
// through, what it reads back with, and the baseline.
type WriteThrough struct {
	// Target is the write path under test (GatewayTarget or
	// SDKWriteTarget). Required.
	Target WriteTarget
	// Reader reads objects back through the cluster: the gateway (a GET)
	// for the gateway target, the SDK (ClusterTarget) for the SDK target,
	// so a read after a write and a cold read take the same path.
	// Required.
	Reader Target
	// Direct writes straight to the under-store (StoreWriteTarget).
	// Required.
	Direct WriteTarget
	// Meter, when set, counts the nodes' under-store bytes around each
	// read: how hits are learnt when Reader does not report pages (the
	// gateway). Its failure leaves the counts unknown, not the run failed.
	Meter UnderstoreMeter
	// Invalidate, when set, drops a path from the cache (untimed) before
	// its cold read: a running cluster may have cached an earlier run's
	// object at that path.
	Invalidate func(ctx context.Context, path string) error
	// OnRound, when set, is called after each round (progress display).
	OnRound func(Round)
}

// Round is one round's timings, for progress.
type Round struct {
	Index                     int
	Write, Direct             time.Duration // 0 when the write failed
	ReadAfterWrite, ColdRead  time.Duration // 0 when the read failed or was skipped
	AfterWriteHit, HitUnknown bool
	Err                       error // the round's first error
}

// RunWriteThrough runs cfg.Objects rounds, one object at a time. Round i:
//
//  1. write PutPath(i) through Target (timed);
//  2. read it back whole through Reader right away (timed), verify every
//     byte, and note whether it was a hit (pages, or Meter's delta);
//  3. write DirectPath(i) straight to the under-store (timed);
//  4. Invalidate it, then read it whole through Reader (timed, a cold
//     read: nothing has read it yet) and verify it.
//
// Rounds alternate the two sides so that drift of the machine's load hits
// both alike. A cancelled ctx ends the run early with what completed; an
// ErrNotImplemented answer ends it at once with that error (the gateway
// cannot take writes, every further round would say the same).
func RunWriteThrough(ctx context.Context, cfg WriteConfig, wt WriteThrough) (*WriteReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if wt.Target == nil || wt.Reader == nil || wt.Direct == nil {
		return nil, fmt.Errorf("%w: write-through needs a target, a reader and the under-store", ErrConfig)
	}
	cfg = cfg.WithDefaults()
	r := &writeThroughRun{cfg: cfg, wt: wt, buf: make([]byte, cfg.ObjectSize), meterOK: wt.Meter != nil}
	r.target.kind, r.direct.kind = wt.Target.Kind(), wt.Direct.Kind()
	var stop error
	for i := 0; i < cfg.Objects && ctx.Err() == nil; i++ {
		rd := r.round(ctx, i)
		if wt.OnRound != nil {
			wt.OnRound(rd)
		}
		if errors.Is(rd.Err, ErrNotImplemented) {
			stop = rd.Err
			break
		}
	}
	return r.report(), stop
}

// writeThroughRun is the state of one RunWriteThrough.
type writeThroughRun struct {
	cfg            WriteConfig
	wt             WriteThrough
	buf            []byte // one object, reused by every read
	target, direct writeAcc
	afterWrite     readAcc
	cold           readAcc
	meterOK        bool // Meter set and not failed yet
}

func (r *writeThroughRun) round(ctx context.Context, i int) Round {
	rd := Round{Index: i}
	note := func(err error) {
		if rd.Err == nil {
			rd.Err = err
		}
	}
	putPath, directPath := r.cfg.PutPath(i), r.cfg.DirectPath(i)
	var err error
	if rd.Write, err = r.write(ctx, r.wt.Target, &r.target, putPath, r.cfg.putKey(i)); err != nil {
		note(err)
	} else {
		rd.ReadAfterWrite, rd.AfterWriteHit, rd.HitUnknown, err = r.read(ctx, &r.afterWrite, putPath, r.cfg.putKey(i))
		note(err)
	}
	if errors.Is(rd.Err, ErrNotImplemented) {
		return rd
	}
	if rd.Direct, err = r.write(ctx, r.wt.Direct, &r.direct, directPath, r.cfg.directKey(i)); err != nil {
		note(err)
		return rd
	}
	if r.wt.Invalidate != nil {
		if err := r.wt.Invalidate(ctx, directPath); err != nil {
			err = fmt.Errorf("bench: invalidate %s: %w", directPath, err)
			r.cold.fail(err)
			note(err)
			return rd
		}
	}
	rd.ColdRead, _, _, err = r.read(ctx, &r.cold, directPath, r.cfg.directKey(i))
	note(err)
	return rd
}

// write puts the object of key at path through w and records it in acc.
func (r *writeThroughRun) write(ctx context.Context, w WriteTarget, acc *writeAcc, path string, key uint64) (time.Duration, error) {
	size := r.cfg.ObjectSize
	begin := time.Now()
	err := w.Put(ctx, path, ContentReadSeeker(key, size), size)
	lat := time.Since(begin)
	if err != nil {
		acc.fail(err)
		return 0, err
	}
	acc.ok(lat, size)
	return lat, nil
}

// read reads path whole through the reader (timed), verifies it against
// key, and records it in acc with where its bytes came from.
func (r *writeThroughRun) read(ctx context.Context, acc *readAcc, path string, key uint64) (lat time.Duration, hit, unknown bool, err error) {
	before, meterOK := r.meter(ctx)
	begin := time.Now()
	n, st, err := r.wt.Reader.ReadAt(ctx, path, r.buf, 0)
	lat = time.Since(begin)
	if errors.Is(err, io.EOF) && n == len(r.buf) {
		err = nil
	}
	if err == nil && n != len(r.buf) {
		err = fmt.Errorf("bench: short read of %s: %d of %d bytes", path, n, len(r.buf))
	}
	if err != nil {
		err = fmt.Errorf("bench: read %s: %w", path, err)
		acc.fail(err)
		return 0, false, true, err
	}
	var under int64
	from := ""
	if after, ok := r.meter(ctx); ok && meterOK {
		under, from = max(after-before, 0), FromMetrics
	} else if st.PagesHit+st.PagesMissed > 0 {
		under, from = st.BytesUnderstore+st.BytesDirect, FromReadStats
	}
	wrong := Mismatch(r.buf, key, 0)
	acc.ok(lat, int64(n), st, under, from, wrong)
	switch {
	case st.PagesHit+st.PagesMissed > 0:
		hit = st.PagesMissed == 0
	case from != "":
		hit = under == 0
	default:
		unknown = true
	}
	if wrong > 0 {
		err = fmt.Errorf("bench: read %s: %d wrong bytes", path, wrong)
	}
	return lat, hit, unknown, err
}

// meter reads the under-store byte counter; a failure turns it off for
// the rest of the run (the counts become unknown).
func (r *writeThroughRun) meter(ctx context.Context) (int64, bool) {
	if !r.meterOK {
		return 0, false
	}
	n, err := r.wt.Meter.UnderstoreBytes(ctx)
	if err != nil {
		r.meterOK = false
		r.afterWrite.noteMeter(err)
		return 0, false
	}
	return n, true
}

func (r *writeThroughRun) report() *WriteReport {
	rep := &WriteReport{Version: 1, Mode: "write-through", Seed: r.cfg.Seed,
		Workload: WriteWorkload{Objects: r.cfg.Objects, ObjectSize: r.cfg.ObjectSize, Prefix: r.cfg.Prefix},
		Target:   r.target.run(), Direct: r.direct.run(),
		ReadAfterWrite: r.afterWrite.back("read-after-write"), Cold: r.cold.back("cold")}
	rep.Ratios = CompareWrites(rep.Target, rep.Direct, rep.ReadAfterWrite, rep.Cold)
	return rep
}

// writeAcc accumulates one write target's results.
type writeAcc struct {
	kind       string
	hist       Histogram
	n, errs    int64
	bytes      int64
	dur        time.Duration
	firstError string
}

func (a *writeAcc) ok(lat time.Duration, n int64) {
	a.hist.Record(lat)
	a.n++
	a.bytes += n
	a.dur += lat
}

func (a *writeAcc) fail(err error) {
	a.errs++
	if a.firstError == "" {
		a.firstError = err.Error()
	}
}

func (a *writeAcc) run() WriteRun {
	w := WriteRun{Target: a.kind, Objects: a.n, Errors: a.errs, Bytes: a.bytes, WriteSec: a.dur.Seconds(),
		Latency: LatencyOf(&a.hist), FirstError: a.firstError}
	if a.dur > 0 {
		w.BytesPerSec = float64(a.bytes) / a.dur.Seconds()
	}
	return w
}

// readAcc accumulates one kind of read's results. The under-store bytes
// are known only while every successful read reported them the same way.
type readAcc struct {
	hist                  Histogram
	reads, errs           int64
	bytes, wrong          int64
	hit, missed           int64
	under                 int64
	from                  string
	fromMixed, anyPages   bool
	firstError, meterNote string
}

func (a *readAcc) ok(lat time.Duration, n int64, st ReadStats, under int64, from string, wrong int64) {
	a.hist.Record(lat)
	if a.reads > 0 && from != a.from {
		a.fromMixed = true
	}
	a.reads++
	a.bytes += n
	a.wrong += wrong
	a.hit += st.PagesHit
	a.missed += st.PagesMissed
	a.anyPages = a.anyPages || st.PagesHit+st.PagesMissed > 0
	a.under += under
	a.from = from
}

func (a *readAcc) fail(err error) {
	a.errs++
	if a.firstError == "" {
		a.firstError = err.Error()
	}
}

func (a *readAcc) noteMeter(err error) {
	if a.meterNote == "" {
		a.meterNote = "under-store bytes unknown: " + err.Error()
	}
}

func (a *readAcc) back(name string) ReadBack {
	b := ReadBack{Name: name, Reads: a.reads, Errors: a.errs, Bytes: a.bytes, WrongBytes: a.wrong,
		PagesHit: a.hit, PagesMissed: a.missed, HasPages: a.anyPages,
		UnderstoreBytes: a.under, UnderstoreFrom: a.from, Latency: LatencyOf(&a.hist), FirstError: a.firstError}
	if a.fromMixed {
		b.UnderstoreBytes, b.UnderstoreFrom = 0, ""
	}
	if b.FirstError == "" {
		b.FirstError = a.meterNote
	}
	return b
}
