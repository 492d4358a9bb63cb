package affinity

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/ring"
)

func newRing(t testing.TB, n int) *ring.Ring {
	t.Helper()
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf("node-%03d", i)
	}
	r, err := ring.New(ring.Config{}, ms)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// uniformSplits: one split per distinct file, so keys are uniform.
func uniformSplits(rng *rand.Rand, n int) []Split {
	s := make([]Split, n)
	for i := range s {
		s[i] = Split{Path: fmt.Sprintf("lake/t%d/part-%016x.parquet", rng.IntN(50), rng.Uint64()), Offset: 0, Length: 64 << 20}
	}
	return s
}

func TestKey(t *testing.T) {
	s := Split{Path: "lake/t/f.parquet", Offset: 600 << 20, Length: 1 << 20}
	if got := Key(Config{}, s); got != "lake/t/f.parquet" {
		t.Errorf("Key = %q", got)
	}
	if got := Key(Config{SectionSize: PrestoSectionSize}, s); got != "lake/t/f.parquet#2" {
		t.Errorf("Key = %q", got)
	}
	s.Offset = PrestoSectionSize - 1
	if got := Key(Config{SectionSize: PrestoSectionSize}, s); got != "lake/t/f.parquet#0" {
		t.Errorf("Key = %q", got)
	}
	if err := (Config{SectionSize: -1}).Validate(); !errors.Is(err, ErrBadConfig) {
		t.Errorf("negative SectionSize: %v", err)
	}
}

func TestPreferred(t *testing.T) {
	r := newRing(t, 10)
	cfg := Config{SectionSize: PrestoSectionSize}
	s := Split{Path: "lake/t/f.parquet", Offset: 3 << 30}
	got := Preferred(r, cfg, s, 3)
	if want := r.Owners("lake/t/f.parquet#12", 3); !slices.Equal(got, want) {
		t.Fatalf("Preferred %v, ring %v", got, want)
	}
	if Preferred(r, cfg, Split{}, 3) != nil || Preferred(nil, cfg, s, 3) != nil {
		t.Fatalf("empty path or nil ring must give nil")
	}
	// Sections spread a big file over several nodes.
	nodes := map[string]bool{}
	for off := int64(0); off < 64*PrestoSectionSize; off += PrestoSectionSize {
		nodes[Preferred(r, cfg, Split{Path: "lake/t/huge", Offset: off}, 1)[0]] = true
	}
	if len(nodes) < 5 {
		t.Fatalf("64 sections on %d of 10 nodes", len(nodes))
	}
}

// TestAssignProperties: every split placed once, loads within the bound and
// consistent with the assignments, rank matches the preference list, and at
// maxLoad 1.25 with uniform keys >= 95% land on their owner.
func TestAssignProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 1))
	for _, tc := range []struct{ nodes, splits int }{{1, 100}, {3, 3000}, {10, 10000}, {37, 20000}, {100, 5000}, {100, 50000}} {
		r := newRing(t, tc.nodes)
		splits := uniformSplits(rng, tc.splits)
		res, err := Assign(r, Config{}, splits, 1.25)
		if err != nil {
			t.Fatal(err)
		}
		bound := min(int(math.Ceil(1.25*float64(tc.splits)/float64(tc.nodes))), tc.splits)
		if res.Bound != bound || len(res.Assignments) != tc.splits || len(res.Load) != tc.nodes {
			t.Fatalf("%+v: bound %d (want %d), %d assignments, %d loads", tc, res.Bound, bound, len(res.Assignments), len(res.Load))
		}
		counts := map[string]int{}
		rank0 := 0
		for i, a := range res.Assignments {
			if a.Split != i || a.Node == "" {
				t.Fatalf("assignment %d: %+v", i, a)
			}
			counts[a.Node]++
			prefs := Preferred(r, Config{}, splits[i], a.PreferredRank+1)
			if prefs[a.PreferredRank] != a.Node {
				t.Fatalf("split %d: rank %d is %s, assigned %s", i, a.PreferredRank, prefs[a.PreferredRank], a.Node)
			}
			if a.PreferredRank == 0 {
				rank0++
			}
		}
		for node, c := range res.Load {
			if c != counts[node] || c > bound {
				t.Fatalf("%+v: node %s load %d, counted %d, bound %d", tc, node, c, counts[node], bound)
			}
		}
		frac := float64(rank0) / float64(tc.splits)
		t.Logf("%d nodes, %d splits: %.2f%% on rank 0, max load bound %d", tc.nodes, tc.splits, 100*frac, bound)
		if frac < 0.95 {
			t.Errorf("%+v: only %.2f%% on rank 0", tc, 100*frac)
		}
	}
}

// TestAssignHotFile: all splits of one file prefer the same node; the bound
// spreads them and every split is still placed, walking past the short
// fallback list when needed (maxLoad 1 with 1 split per node).
func TestAssignHotFile(t *testing.T) {
	for _, nodes := range []int{1, 2, 5, 20} {
		r := newRing(t, nodes)
		splits := make([]Split, nodes*3)
		for i := range splits {
			splits[i] = Split{Path: "lake/hot/file", Offset: int64(i) << 20, Length: 1 << 20}
		}
		res, err := Assign(r, Config{}, splits, 1)
		if err != nil {
			t.Fatal(err)
		}
		for node, c := range res.Load {
			if c != 3 {
				t.Fatalf("%d nodes: node %s has %d splits, want 3 (bound %d)", nodes, node, c, res.Bound)
			}
		}
		prefs := r.Owners("lake/hot/file", nodes)
		for i, a := range res.Assignments {
			if want := prefs[i/3]; a.Node != want || a.PreferredRank != i/3 {
				t.Fatalf("split %d: %s rank %d, want %s rank %d", i, a.Node, a.PreferredRank, want, i/3)
			}
		}
	}
}

func TestAssignStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 2))
	r := newRing(t, 16)
	splits := uniformSplits(rng, 5000)
	cfg := Config{SectionSize: PrestoSectionSize}
	a, err := Assign(r, cfg, splits, 1.1)
	if err != nil {
		t.Fatal(err)
	}
	// An independently built ring with the same members (another process).
	ms := r.Members()
	slices.Reverse(ms)
	r2, err := ring.New(ring.Config{}, ms)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Assign(r2, cfg, splits, 1.1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two calls gave different placements")
	}
}

func TestAssignErrors(t *testing.T) {
	r := newRing(t, 3)
	ok := []Split{{Path: "a/b"}}
	for _, l := range []float64{0, 0.99, -1, math.NaN(), math.Inf(1)} {
		if _, err := Assign(r, Config{}, ok, l); !errors.Is(err, ErrBadLoad) {
			t.Errorf("maxLoad %v: %v", l, err)
		}
	}
	empty, _ := ring.New(ring.Config{}, nil)
	if _, err := Assign(empty, Config{}, ok, 1.25); !errors.Is(err, ErrEmptyRing) {
		t.Errorf("empty ring: %v", err)
	}
	if _, err := Assign(nil, Config{}, ok, 1.25); !errors.Is(err, ErrEmptyRing) {
		t.Errorf("nil ring: %v", err)
	}
	for _, s := range []Split{{Path: ""}, {Path: "a/b", Offset: -1}, {Path: "a/b", Length: -1}} {
		if _, err := Assign(r, Config{}, []Split{{Path: "x/y"}, s}, 1.25); !errors.Is(err, ErrBadSplit) {
			t.Errorf("split %+v: %v", s, err)
		}
	}
	if _, err := Assign(r, Config{SectionSize: -1}, ok, 1.25); !errors.Is(err, ErrBadConfig) {
		t.Errorf("bad config: %v", err)
	}
	res, err := Assign(r, Config{}, nil, 1.25)
	if err != nil || len(res.Assignments) != 0 || len(res.Load) != 3 {
		t.Errorf("no splits: %+v, %v", res, err)
	}
	if res, err := Assign(r, Config{}, ok, 1e300); err != nil || res.Bound != 1 {
		t.Errorf("huge maxLoad: %+v, %v", res, err)
	}
}
