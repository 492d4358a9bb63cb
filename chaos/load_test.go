//go:build chaos

package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/client"
)

// window accumulates the reads of one phase of a scenario.
type window struct {
	// active is read-locked by every read recorded here; seal takes it to
	// wait for reads in flight, after which no read lands here any more.
	active sync.RWMutex
	sealed bool

	mu         sync.Mutex
	attempts   int64
	failed     int64
	wrongBytes int64
	wrongReads int64
	hit, miss  int64
	lat        []time.Duration
	firstErr   error
	firstWrong string
	// Reads of the cold files (only in the under-store scenario).
	coldAttempts, coldFailed, coldMissed int64
	coldMaxLat                           time.Duration
	firstHotErr                          error
}

func (w *window) record(cold bool, lat time.Duration, st client.ReadStats, err error, wrong int64, wrongMsg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cold {
		w.coldAttempts++
		w.coldMissed += st.PagesMissed
		w.coldMaxLat = max(w.coldMaxLat, lat)
		if err != nil {
			w.coldFailed++
		}
	} else if err != nil && w.firstHotErr == nil {
		w.firstHotErr = err
	}
	w.attempts++
	w.lat = append(w.lat, lat)
	if err != nil {
		w.failed++
		if w.firstErr == nil {
			w.firstErr = err
		}
		return
	}
	w.hit += st.PagesHit
	w.miss += st.PagesMissed
	if wrong > 0 {
		w.wrongBytes += wrong
		w.wrongReads++
		if w.firstWrong == "" {
			w.firstWrong = wrongMsg
		}
	}
}

// hitRatio is the share of pages that were cache hits; -1 without reads.
func (w *window) hitRatio() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hit+w.miss == 0 {
		return -1
	}
	return float64(w.hit) / float64(w.hit+w.miss)
}

func (w *window) p99() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lat) == 0 {
		return 0
	}
	l := slices.Clone(w.lat)
	slices.Sort(l)
	return l[(len(l)*99)/100]
}

// resetColdMax restarts the slowest-cold-read measure (per fault phase).
func (w *window) resetColdMax() {
	w.mu.Lock()
	w.coldMaxLat = 0
	w.mu.Unlock()
}

func (w *window) coldCounts() (attempts, failed, missed int64, maxLat time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.coldAttempts, w.coldFailed, w.coldMissed, w.coldMaxLat
}

func (w *window) counts() (attempts, failed, wrongBytes int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts, w.failed, w.wrongBytes
}

// load runs workers that read random ranges of the seeded files through the
// SDK and compare every byte with the source. Reads land in the current
// window; files in cold are read only while readCold is set.
type load struct {
	cl      *client.Client
	files   map[string][]byte
	hot     []string
	cold    []string
	cur     atomic.Pointer[window]
	coldOn  atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
	maxRead int
}

func newLoad(cl *client.Client, files map[string][]byte, hot, cold []string) *load {
	l := &load{cl: cl, files: files, hot: hot, cold: cold, stop: make(chan struct{}), maxRead: 600 << 10}
	l.cur.Store(&window{})
	return l
}

// swap starts a new window and returns it; the previous one is sealed:
// every read it counts has finished.
func (l *load) swap() *window {
	w := &window{}
	old := l.cur.Swap(w)
	old.active.Lock()
	old.sealed = true
	old.active.Unlock()
	return w
}

// enter returns the current window, read-locked until the read is recorded.
func (l *load) enter() *window {
	for {
		w := l.cur.Load()
		w.active.RLock()
		if !w.sealed {
			return w
		}
		w.active.RUnlock()
	}
}

// start runs workers readers of the hot files, plus coldWorkers that read
// the cold files while coldOn is set (and idle otherwise), so that reads
// stuck on the under-store never starve the hot load.
func (l *load) start(workers, coldWorkers int, seed uint64) {
	for i := range workers + coldWorkers {
		l.wg.Add(1)
		go l.worker(rand.New(rand.NewPCG(seed, uint64(i))), i >= workers)
	}
}

func (l *load) close() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) worker(r *rand.Rand, cold bool) {
	defer l.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		set := l.hot
		if cold {
			if !l.coldOn.Load() {
				select { // idle until the cold files are wanted
				case <-l.stop:
					return
				case <-tick.C:
				}
				continue
			}
			set = l.cold
		}
		p := set[r.IntN(len(set))]
		w := l.enter()
		l.readVerified(w, p, r)
		w.active.RUnlock()
	}
}

// readVerified reads a random range of p (sometimes the whole file) and
// records the outcome in w.
func (l *load) readVerified(w *window, p string, r *rand.Rand) {
	want := l.files[p]
	off, n := int64(0), len(want)
	if r.IntN(4) != 0 {
		off = r.Int64N(int64(len(want)))
		n = min(len(want)-int(off), 1+r.IntN(l.maxRead))
	}
	l.readRange(w, p, off, n)
}

// readRange reads n bytes at off of p, verifies them, records the read in w
// and returns its stats.
func (l *load) readRange(w *window, p string, off int64, n int) client.ReadStats {
	want := l.files[p][off : off+int64(n)]
	buf := make([]byte, n)
	var st client.ReadStats
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	start := time.Now()
	got, err := l.cl.ReadAt(ctx, p, buf, off, client.WithStats(&st))
	lat := time.Since(start)
	cancel()
	if errors.Is(err, io.EOF) && got == n {
		err = nil
	}
	if err == nil && got != n {
		err = fmt.Errorf("%s@%d+%d: short read of %d bytes", p, off, n, got)
	}
	var wrong int64
	var msg string
	if err == nil {
		for i := range buf {
			if buf[i] != want[i] {
				wrong++
			}
		}
		if wrong > 0 {
			msg = fmt.Sprintf("%s@%d+%d: %d wrong bytes (served by %s)", p, off, n, wrong, st.Node)
		}
	} else {
		err = fmt.Errorf("%s@%d+%d: %w", p, off, n, err)
	}
	w.record(strings.Contains(p, "/cold/"), lat, st, err, wrong, msg)
	return st
}
