package storage

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The crash test runs a child process (this test binary, re-executed with
// crashChildEnv set) that fills a store with random pages and versions and
// prints every mutation to stdout only after it returned (acknowledged and
// durable under SyncAlways). The parent SIGKILLs it after a seeded number of
// acknowledgements, reopens the store and checks it.

var (
	crashRounds = flag.Int("crash.rounds", 0, "crash test rounds (default 50, fewer with -short or -race)")
	crashSeed   = flag.Uint64("crash.seed", 0, "crash test seed (default: random, printed)")
)

const (
	crashChildEnv = "RINGCACHE_STORAGE_CRASH_CHILD" // dir:seed
	crashWorkers  = 3
	crashFiles    = 4 // per worker
	crashPage     = MinPageSize * 2
)

func crashConfig(dir string, sync SyncPolicy) Config {
	return Config{
		Dirs:         []DirConfig{{Path: filepath.Join(dir, "pages"), Capacity: 1 << 30}},
		JournalDir:   filepath.Join(dir, "journal"),
		PageSize:     crashPage,
		Sync:         sync,
		CompactEvery: 32 << 10,
		SegmentBytes: 8 << 10,
		// Files of worker 2 live under a small quota so that evictions
		// happen during the crash rounds too.
		ScopeQuotas: map[string]int64{"lake/w2/": 6 * crashPage},
	}
}

func crashPath(w, f int) string { return fmt.Sprintf("lake/w%d/f%d", w, f) }

// crashFileSize is the size of a version of a file: derived from the version
// so that the parent can recompute it.
func crashFileSize(path string, version uint64) int64 {
	id := FileIDOf(path)
	return int64(1+(uint64(id[0])+version*7)%6)*crashPage - int64((uint64(id[1])+version)%3)*1000
}

func TestMain(m *testing.M) {
	if v := os.Getenv(crashChildEnv); v != "" {
		crashChild(v)
		return
	}
	os.Exit(m.Run())
}

func crashChild(arg string) {
	dir, seedStr, _ := strings.Cut(arg, ":")
	seed, _ := strconv.ParseUint(seedStr, 10, 64)
	round, _ := strconv.ParseUint(os.Getenv(crashChildEnv+"_ROUND"), 10, 64)
	pol, _ := strconv.ParseInt(os.Getenv(crashChildEnv+"_SYNC"), 10, 64)
	s, err := Open(crashConfig(dir, SyncPolicy(pol)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	var out sync.Mutex
	ack := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		out.Lock()
		os.Stdout.WriteString(line) // one write: a line is whole or absent
		out.Unlock()
	}
	var wg sync.WaitGroup
	for w := 0; w < crashWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, round*100+uint64(w)))
			retired := map[string]uint64{} // last version of paths this worker invalidated
			for op := 0; op < 100000; op++ {
				path := crashPath(w, r.IntN(crashFiles))
				m, ok := s.Lookup(path)
				switch x := r.IntN(100); {
				case !ok || x < 8:
					// New content: the size is a function of the next version.
					next := retired[path] + 1 // a file added again continues its versions
					if ok {
						next = m.Version + 1
					}
					size := crashFileSize(path, next)
					m2, err := s.Upsert(path, Fingerprint{ETag: fmt.Sprint(r.Uint64()), Size: size}, "", "")
					if err != nil {
						fmt.Fprintln(os.Stderr, "child upsert:", err)
						os.Exit(4)
					}
					if m2.Version != next {
						fmt.Fprintln(os.Stderr, "child: unexpected version", m2.Version, next)
						os.Exit(4)
					}
					ack("V %s %d", path, m2.Version)
				case x < 10:
					if err := s.Invalidate(path); err != nil {
						fmt.Fprintln(os.Stderr, "child invalidate:", err)
						os.Exit(4)
					}
					retired[path] = m.Version
					ack("I %s", path)
				case x < 12:
					s.Upsert(path, m.Content, fmt.Sprint("meta", r.IntN(5)), "")
				default:
					n := (m.Size + crashPage - 1) / crashPage
					i := uint32(r.Int64N(n))
					ln := min(crashPage, m.Size-int64(i)*crashPage)
					err := s.PutPage(PageKey{m.ID, m.Version, i}, pageBytes(seed, path, m.Version, i, int(ln)))
					if err != nil && !errors.Is(err, ErrStaleVersion) {
						fmt.Fprintln(os.Stderr, "child put:", err)
						os.Exit(4)
					}
					if err == nil {
						ack("P %s %d %d", path, m.Version, i)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	s.Close()
	os.Exit(0)
}

// crashModel is what the parent learned from the acknowledgements.
type crashModel struct {
	version map[string]uint64              // last acknowledged version (0 after an acknowledged Invalidate)
	pages   map[string]map[uint32]struct{} // acknowledged pages of that version
}

func (m *crashModel) apply(t *testing.T, line string) {
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && f[0] == "V":
		v, _ := strconv.ParseUint(f[2], 10, 64)
		m.version[f[1]] = v
		m.pages[f[1]] = map[uint32]struct{}{}
	case len(f) == 2 && f[0] == "I":
		m.version[f[1]] = 0
		m.pages[f[1]] = map[uint32]struct{}{}
	case len(f) == 4 && f[0] == "P":
		v, _ := strconv.ParseUint(f[2], 10, 64)
		i, _ := strconv.ParseUint(f[3], 10, 32)
		if v == m.version[f[1]] {
			m.pages[f[1]][uint32(i)] = struct{}{}
		}
	default:
		t.Fatalf("bad line from child: %q", line)
	}
}

func TestCrash(t *testing.T) {
	rounds := *crashRounds
	if rounds == 0 {
		rounds = 50
		if testing.Short() || raceEnabled {
			rounds = 5
		}
	}
	runCrashRounds(t, rounds, SyncAlways)
}

// TestCrashIntervalSync: with the default group-commit interval, what was
// acknowledged is written to the OS, so it survives a process kill too.
func TestCrashIntervalSync(t *testing.T) {
	rounds := 10
	if testing.Short() || raceEnabled {
		rounds = 3
	}
	runCrashRounds(t, rounds, DefaultSyncInterval)
}

func runCrashRounds(t *testing.T, rounds int, pol SyncPolicy) {
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("crash test: %d rounds, seed %d (rerun with -crash.seed=%d)", rounds, seed, seed)
	defer func() {
		if t.Failed() {
			t.Logf("crash test failed with -crash.seed=%d", seed)
		}
	}()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(seed, 0))
	model := &crashModel{version: map[string]uint64{}, pages: map[string]map[uint32]struct{}{}}
	for round := 0; round < rounds; round++ {
		kill := 1 + r.IntN(150)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d", crashChildEnv, dir, seed),
			fmt.Sprintf("%s_ROUND=%d", crashChildEnv, round), fmt.Sprintf("%s_SYNC=%d", crashChildEnv, pol))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(stdout)
		acks := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				break // EOF after the kill; a fragment without '\n' is not an ack
			}
			model.apply(t, strings.TrimSuffix(line, "\n"))
			if acks++; acks == kill {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child did not die by SIGKILL: %v; stderr:\n%s", round, err, stderr.String())
		}
		checkCrashStore(t, dir, pol, seed, round, model)
	}
	jf, _ := listJournal(OSFS{}, crashConfig(dir, pol).JournalDir)
	t.Logf("journal after %d rounds: snapshot %v, segments %v", rounds, jf.snaps, jf.segs)
}

func checkCrashStore(t *testing.T, dir string, pol SyncPolicy, seed uint64, round int, model *crashModel) {
	t.Helper()
	cfg := crashConfig(dir, pol)
	if os.Getenv("CRASH_DUMP") != "" {
		dumpJournal(t, cfg.JournalDir, FileIDOf(os.Getenv("CRASH_DUMP")))
	}
	var before []string
	filepath.WalkDir(cfg.Dirs[0].Path, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			before = append(before, filepath.Base(p))
		}
		return nil
	})
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("page files before reopen: %v", before)
		}
	}()
	defer s.Close()
	indexed := 0
	for w := 0; w < crashWorkers; w++ {
		// Each worker runs one operation at a time, so the store may be
		// ahead of the acknowledgements by at most one durable but
		// unacknowledged Upsert or Invalidate per worker.
		unacked := 0
		for f := 0; f < crashFiles; f++ {
			path := crashPath(w, f)
			m, ok := s.Lookup(path)
			acked := model.version[path]
			if !ok {
				if acked != 0 {
					if unacked++; unacked > 1 {
						t.Fatalf("round %d: %s lost (acknowledged version %d)", round, path, acked)
					}
					// The unacknowledged Invalidate is now the truth.
					model.version[path], model.pages[path] = 0, map[uint32]struct{}{}
				}
				continue
			}
			switch {
			case acked == 0, acked != 0 && m.Version == acked+1:
				// (After an Invalidate the file comes back at any version:
				// the store continues a forgotten file's versions.)
				if unacked++; unacked > 1 {
					t.Fatalf("round %d: two unacknowledged operations of worker %d durable", round, w)
				}
				// The unacknowledged Upsert is now the truth; none of its
				// pages were acknowledged.
				model.version[path], model.pages[path] = m.Version, map[uint32]struct{}{}
			case acked != 0 && m.Version == acked:
			default:
				t.Fatalf("round %d: %s at version %d, acknowledged %d", round, path, m.Version, acked)
			}
			if m.Size != crashFileSize(path, m.Version) {
				t.Fatalf("round %d: %s size %d at version %d", round, path, m.Size, m.Version)
			}
			n := (m.Size + crashPage - 1) / crashPage
			for i := uint32(0); int64(i) < n; i++ {
				k := PageKey{m.ID, m.Version, i}
				if !s.HasPage(k) {
					if _, was := model.pages[path][i]; was && m.Version == acked && w != 2 {
						s.Close()
						dumpJournal(t, cfg.JournalDir, m.ID)
						t.Fatalf("round %d: acknowledged page %s/%d of current version %d missing", round, path, i, m.Version)
					}
					continue
				}
				indexed++
				ln := int(min(crashPage, m.Size-int64(i)*crashPage))
				got, err := readAllPage(t, s, k, ln)
				if err != nil || !bytes.Equal(got, pageBytes(seed, path, m.Version, i, ln)) {
					t.Fatalf("round %d: page %s/v%d/%d reads back wrong: %v", round, path, m.Version, i, err)
				}
				// The previous version must not be readable as current.
				if m.Version > 1 && s.HasPage(PageKey{m.ID, m.Version - 1, i}) {
					t.Fatalf("round %d: superseded page indexed", round)
				}
			}
		}
	}
	st := s.Stats()
	if int64(indexed) != st.Pages {
		t.Fatalf("round %d: %d pages reachable, index holds %d", round, indexed, st.Pages)
	}
	// Every page file on disk is one the index vouches for: no page of a
	// superseded version survives a restart.
	if files := countPageFiles(t, cfg.Dirs[0].Path); int64(files) != st.Pages {
		t.Fatalf("round %d: %d page files on disk, index holds %d", round, files, st.Pages)
	}
	for _, sc := range st.Scopes {
		if sc.UsedBytes > sc.QuotaBytes {
			t.Fatalf("round %d: scope over quota %+v", round, sc)
		}
	}
}

// dumpJournal logs the journal records of one file (for failure reports).
func dumpJournal(t *testing.T, dir string, id FileID) {
	jf, err := listJournal(OSFS{}, dir)
	if err != nil {
		t.Logf("dump: %v", err)
		return
	}
	show := func(name string, buf []byte) {
		if len(buf) < fileMagicSize {
			return
		}
		scanFrames(buf[fileMagicSize:], name, fileMagicSize, true, func(r *record) error {
			if r.file == id {
				t.Logf("%s: kind=%d v=%d idx=%d len=%d gen=%d size=%d etag=%q", filepath.Base(name), r.kind, r.version, r.index, r.length, r.gen, r.size, r.etag)
			}
			return nil
		})
	}
	for _, n := range jf.snaps {
		b, _ := os.ReadFile(snapName(dir, n))
		show(snapName(dir, n), b)
	}
	for _, n := range jf.segs {
		b, _ := os.ReadFile(segName(dir, n))
		show(segName(dir, n), b)
	}
}
