package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// fileState tracks the generations of one file. Writes to a file are
// serialised by mu; readers only load the atomics.
type fileState struct {
	mu  sync.Mutex
	cur atomic.Uint64 // generation committed (Put returned)
	top atomic.Uint64 // highest generation ever sent (>= cur; > cur while a Put runs or after a failed one)
}

// Bench is a workload over a set of files whose generations it tracks
// across runs. Safe for one Run at a time.
type Bench struct {
	cfg    Config
	picker *Picker
	files  []fileState
	writer Writer
	// afterWrite, when set, runs after each successful write (inside the
	// write's timing): e.g. invalidate the path in the cache.
	afterWrite func(ctx context.Context, path string) error
}

// New returns a Bench for cfg whose writes go to w (the under-store, with
// any injected latency).
func New(cfg Config, w Writer) (*Bench, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if cfg.ReadRatio < 1 && w == nil {
		return nil, fmt.Errorf("%w: writes (read ratio < 1) need an under-store to write to", ErrConfig)
	}
	return &Bench{cfg: cfg, picker: NewPicker(cfg), files: make([]fileState, cfg.Files), writer: w}, nil
}

// Config is the workload with defaults applied.
func (b *Bench) Config() Config { return b.cfg }

// SetAfterWrite sets a hook run after every successful write.
func (b *Bench) SetAfterWrite(f func(ctx context.Context, path string) error) { b.afterWrite = f }

// Setup uploads generation 0 of every file to w (typically the under-store
// without injected latency: setup is not measured), Threads at a time.
func (b *Bench) Setup(ctx context.Context, w Writer) error {
	var next atomic.Int64
	errs := make([]error, b.cfg.Threads)
	var wg sync.WaitGroup
	for t := range b.cfg.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.cfg.Files || ctx.Err() != nil {
					return
				}
				f := &b.files[i]
				g := f.cur.Load()
				if _, err := w.Put(ctx, b.cfg.Path(i), ContentReader(ContentKey(b.cfg.Seed, i, g), b.cfg.FileSize), b.cfg.FileSize); err != nil {
					errs[t] = fmt.Errorf("bench: set up %s: %w", b.cfg.Path(i), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// RunOptions describe one run of the workload.
type RunOptions struct {
	// Name labels the run in reports ("cache", "cold", "warm", "baseline").
	Name string
	// Index makes the threads' random sequences differ between runs of one
	// Bench (same index, same sequence).
	Index int
	// Ops and Duration override the Config's for this run (e.g. a warm-up);
	// zero keeps the Config's.
	Ops      int64
	Duration time.Duration
	// OnSecond, when set, receives each point of the time series as it
	// closes (progress display). Called from one goroutine.
	OnSecond func(Second)
}

// Run drives the workload against t until Ops operations or Duration have
// passed, or ctx ends, and returns the summary and per-second series. A
// cancelled ctx ends the run early; the result covers what completed.
func (b *Bench) Run(ctx context.Context, t Target, o RunOptions) (Run, error) {
	ops, dur := b.cfg.Ops, b.cfg.Duration
	if o.Ops > 0 || o.Duration > 0 {
		ops, dur = o.Ops, o.Duration
	}
	col := newCollector()
	var stop atomic.Bool
	start := time.Now()
	if ops == 0 {
		timer := time.AfterFunc(dur, func() { stop.Store(true) })
		defer timer.Stop()
	}
	done := make(chan struct{})
	seriesc := make(chan []Second, 1)
	go func() { seriesc <- recordSeries(col, start, o.OnSecond, done) }()
	b.runThreads(ctx, t, col, o.Index, ops, &stop)
	elapsed := time.Since(start)
	close(done)
	series := <-seriesc
	return Run{Summary: col.summary(o.Name, t.Kind(), elapsed), Series: series}, nil
}

// runThreads runs Threads workers until ops operations (when > 0) have
// been taken, stop is set or ctx ends, and waits for them. The operation
// counter is shared, so ops bounds the run as a whole, not each thread.
func (b *Bench) runThreads(ctx context.Context, t Target, col *collector, index int, ops int64, stop *atomic.Bool) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for th := range b.cfg.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := ThreadRand(b.cfg.Seed, index, th)
			buf := make([]byte, b.cfg.ReadSize)
			for !stop.Load() && ctx.Err() == nil {
				k := next.Add(1) - 1
				if ops > 0 && k >= ops {
					return
				}
				op := b.picker.Next(k, rng)
				if op.Write {
					b.write(ctx, col, op)
				} else {
					b.read(ctx, t, col, op, buf[:op.Length])
				}
			}
		}()
	}
	wg.Wait()
}

// minPoint is the shortest last point that stands alone in a series.
const minPoint = 250 * time.Millisecond

// recordSeries cuts a point of the series every second until done is
// closed, then the last (partial) point, and returns the series. Each
// point goes to onSecond (when set) as it closes.
func recordSeries(col *collector, start time.Time, onSecond func(Second), done <-chan struct{}) []Second {
	var series []Second
	emit := func(s Second) {
		series = append(series, s)
		if onSecond != nil {
			onSecond(s)
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := start
	for {
		select {
		case now := <-tick.C:
			emit(col.cut(now.Sub(start), now.Sub(last)))
			last = now
		case <-done:
			now := time.Now()
			d := now.Sub(last)
			if !col.pending() && d < minPoint {
				return series
			}
			s := col.cut(now.Sub(start), d)
			if d < minPoint && len(series) > 0 {
				// Too short to stand alone: fold its counts into the
				// previous point (whose latencies stay as they were).
				series[len(series)-1] = fold(series[len(series)-1], s)
				return series
			}
			emit(s)
			return series
		}
	}
}

// fold adds point b's counts to point a, which then ends where b ends.
func fold(a, b Second) Second {
	a.Counts.add(b.Counts)
	a.T, a.Dur = b.T, a.Dur+b.Dur
	if a.Dur > 0 {
		a.OpsPerSec = float64(a.Ops) / a.Dur
		a.BytesPerSec = float64(a.Bytes) / a.Dur
	}
	a.HitRatio, _ = HitRatio(a.PagesHit, a.PagesMissed)
	return a
}

// changed reports an error meaning the object changed under the read.
func changed(err error) bool {
	return errors.Is(err, transport.ErrChanged) || errors.Is(err, understore.ErrChanged)
}

func (b *Bench) read(ctx context.Context, t Target, col *collector, op Op, p []byte) {
	f := &b.files[op.File]
	path := b.cfg.Path(op.File)
	atStart := f.cur.Load()
	var st ReadStats
	var n, retries int
	var err error
	begin := time.Now()
	for {
		var s ReadStats
		n, s, err = t.ReadAt(ctx, path, p, op.Offset)
		st.add(s)
		if errors.Is(err, io.EOF) && n == len(p) {
			err = nil
		}
		if err == nil || !changed(err) || retries >= b.cfg.Retries {
			break
		}
		retries++
	}
	lat := time.Since(begin)
	if err == nil && n != len(p) {
		err = fmt.Errorf("bench: short read of %s at %d: %d of %d bytes", path, op.Offset, n, len(p))
	}
	var v Verdict
	if err == nil {
		v = Verify(p, b.cfg.Seed, op.File, op.Offset, f.top.Load(), atStart)
	}
	col.read(lat, int64(n), st, v, retries, err)
}

func (b *Bench) write(ctx context.Context, col *collector, op Op) {
	f := &b.files[op.File]
	path := b.cfg.Path(op.File)
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.top.Load() + 1
	f.top.Store(g)
	begin := time.Now()
	_, err := b.writer.Put(ctx, path, ContentReader(ContentKey(b.cfg.Seed, op.File, g), b.cfg.FileSize), b.cfg.FileSize)
	if err == nil {
		f.cur.Store(g)
		if b.afterWrite != nil {
			err = b.afterWrite(ctx, path)
		}
	}
	col.write(time.Since(begin), b.cfg.FileSize, err)
}

// collector accumulates the current second and the whole run.
type collector struct {
	mu       sync.Mutex
	win      Counts
	winLat   *Histogram
	tot      Counts
	totRead  Histogram
	totWrite Histogram
	firstErr string
}

func newCollector() *collector { return &collector{winLat: &Histogram{}} }

func (c *collector) read(lat time.Duration, n int64, st ReadStats, v Verdict, retries int, err error) {
	d := Counts{Ops: 1, Reads: 1, Retries: int64(retries)}
	if err != nil {
		d.Errors = 1
	} else {
		d.Bytes = n
		d.BytesLocal, d.BytesPeer, d.BytesUnderstore, d.BytesDirect = st.BytesLocal, st.BytesPeer, st.BytesUnderstore, st.BytesDirect
		d.PagesHit, d.PagesMissed = st.PagesHit, st.PagesMissed
		d.WrongBytes = v.Wrong
		if v.Wrong > 0 {
			d.WrongReads = 1
		}
		if v.Stale {
			d.StaleReads = 1
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count(d, err) {
		c.winLat.Record(lat)
		c.totRead.Record(lat)
	}
}

func (c *collector) write(lat time.Duration, n int64, err error) {
	d := Counts{Ops: 1, Writes: 1}
	if err != nil {
		d.Errors = 1
	} else {
		d.BytesWrite = n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count(d, err) {
		c.totWrite.Record(lat)
	}
}

// count adds an operation's counts to the window and the run and notes
// its error; it reports whether the operation succeeded, since only then
// does its latency count. c.mu is held.
func (c *collector) count(d Counts, err error) bool {
	c.win.add(d)
	c.tot.add(d)
	if err != nil {
		c.noteErr(err)
		return false
	}
	return true
}

func (c *collector) noteErr(err error) {
	if c.firstErr == "" {
		c.firstErr = err.Error()
	}
}

func (c *collector) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.win.Ops > 0
}

// cut closes the current window as the point ending at t, dur long.
func (c *collector) cut(t, dur time.Duration) Second {
	c.mu.Lock()
	win, lat := c.win, c.winLat
	c.win, c.winLat = Counts{}, &Histogram{}
	c.mu.Unlock()
	s := Second{T: t.Seconds(), Dur: dur.Seconds(), Counts: win, Read: LatencyOf(lat)}
	if dur > 0 {
		s.OpsPerSec = float64(win.Ops) / dur.Seconds()
		s.BytesPerSec = float64(win.Bytes) / dur.Seconds()
	}
	s.HitRatio, _ = HitRatio(win.PagesHit, win.PagesMissed)
	return s
}

func (c *collector) summary(name, kind string, elapsed time.Duration) Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Summary{Name: name, Target: kind, Elapsed: elapsed.Seconds(), Counts: c.tot,
		Read: LatencyOf(&c.totRead), Write: LatencyOf(&c.totWrite), FirstError: c.firstErr}
	if elapsed > 0 {
		s.OpsPerSec = float64(c.tot.Ops) / elapsed.Seconds()
		s.BytesPerSec = float64(c.tot.Bytes) / elapsed.Seconds()
	}
	s.HitRatio, s.HasHitRatio = HitRatio(c.tot.PagesHit, c.tot.PagesMissed)
	return s
}
