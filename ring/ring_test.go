package ring

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"

	"github.com/ringcache/ringcache/internal/testseed"
)

func randMembers(rng *rand.Rand, n int) []string {
	seen := map[string]bool{}
	var ms []string
	for len(ms) < n {
		var id string
		switch rng.IntN(3) {
		case 0:
			id = fmt.Sprintf("node-%d", rng.IntN(100000))
		case 1:
			id = fmt.Sprintf("10.0.%d.%d:7946", rng.IntN(256), rng.IntN(256))
		default:
			id = fmt.Sprintf("rc-%x", rng.Uint64())
		}
		if !seen[id] {
			seen[id] = true
			ms = append(ms, id)
		}
	}
	return ms
}

func shuffled(rng *rand.Rand, ms []string) []string {
	c := slices.Clone(ms)
	rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

// memberSizes covers the boundaries (1, 2) and the range up to 512.
func memberSizes(rng *rand.Rand) []int {
	return []int{1, 2, 3, 16, 64, 1 + rng.IntN(128), 512}
}

type hasher struct{}

func (hasher) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

type member string

func (m member) String() string { return string(m) }

func newConsistent(cfg Config, ms []string) *consistent.Consistent {
	cfg = cfg.WithDefaults()
	cms := make([]consistent.Member, len(ms))
	for i, m := range ms {
		cms[i] = member(m)
	}
	return consistent.New(cms, consistent.Config{
		Hasher:            hasher{},
		PartitionCount:    cfg.Partitions,
		ReplicationFactor: cfg.ReplicationFactor,
		Load:              cfg.Load,
	})
}

// TestSameAsConsistent pins the placement to consistent v1.0.0: every
// partition has the owner consistent gives it, for random member sets and
// parameters (consistent.New is quadratic, so sizes stay moderate).
func TestSameAsConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 1))
	for iter := 0; iter < 12; iter++ {
		cfg := Config{
			Partitions:        []int{7, 271, 1021, 4099}[rng.IntN(4)],
			Load:              []float64{1, 1.1, 1.25, 2}[rng.IntN(4)],
			ReplicationFactor: []int{1, 3, 20, 50}[rng.IntN(4)],
		}
		n := 1 + rng.IntN(min(cfg.Partitions, 100))
		ms := randMembers(rng, n)
		r, err := New(cfg, shuffled(rng, ms))
		if err != nil {
			t.Fatal(err)
		}
		c := newConsistent(cfg, ms)
		for p := 0; p < cfg.Partitions; p++ {
			want := c.GetPartitionOwner(p).String()
			if got := r.PartitionOwners(p, 1)[0]; got != want {
				t.Fatalf("cfg %+v, %d members, partition %d: owner %q, consistent %q", cfg, n, p, got, want)
			}
		}
		for i := 0; i < 200; i++ {
			key := fmt.Sprintf("lake/t/part-%d.parquet", rng.Int())
			if got, want := r.Owner(key), c.LocateKey([]byte(key)).String(); got != want {
				t.Fatalf("key %q: owner %q, consistent %q", key, got, want)
			}
			if got, want := r.Partition(key), c.FindPartitionID([]byte(key)); got != want {
				t.Fatalf("key %q: partition %d, consistent %d", key, got, want)
			}
		}
	}
}

// TestDeterministic simulates independent processes: rings built by separate
// New calls from differently ordered inputs agree on everything.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 2))
	for _, n := range memberSizes(rng) {
		ms := randMembers(rng, n)
		a, err := New(Config{}, shuffled(rng, ms))
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Config{Partitions: DefaultPartitions, Load: DefaultLoad}, shuffled(rng, ms))
		if err != nil {
			t.Fatal(err)
		}
		if a.Version() != b.Version() || a.VersionString() != b.VersionString() {
			t.Fatalf("%d members: versions %s and %s", n, a.VersionString(), b.VersionString())
		}
		if !slices.Equal(a.Members(), b.Members()) || !slices.IsSorted(a.Members()) {
			t.Fatalf("members differ or unsorted")
		}
		if !slices.Equal(a.table, b.table) {
			t.Fatalf("%d members: partition tables differ", n)
		}
		for i := 0; i < 500; i++ {
			key := fmt.Sprintf("b/k%d", rng.Int())
			k := 1 + rng.IntN(n+2)
			if !slices.Equal(a.Owners(key, k), b.Owners(key, k)) {
				t.Fatalf("%d members: Owners(%q, %d) differ", n, key, k)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	ms := []string{"a", "b", "c"}
	base, _ := New(Config{}, ms)
	if len(base.VersionString()) != 16 {
		t.Fatalf("VersionString %q", base.VersionString())
	}
	// Pinned value: the version must be identical across processes and
	// builds; a change here means old and new binaries disagree.
	if got, want := base.VersionString(), "2e8da32d34755bb5"; got != want {
		t.Errorf("version of {a,b,c} with defaults: %s, pinned %s", got, want)
	}
	differ := map[string]*Ring{}
	add := func(name string, cfg Config, ms []string) {
		r, err := New(cfg, ms)
		if err != nil {
			t.Fatal(err)
		}
		differ[name] = r
	}
	add("member removed", Config{}, []string{"a", "b"})
	add("member added", Config{}, []string{"a", "b", "c", "d"})
	add("member renamed", Config{}, []string{"a", "b", "cc"})
	add("split boundary", Config{}, []string{"a", "bc"})
	add("partitions", Config{Partitions: 271}, ms)
	add("load", Config{Load: 1.3}, ms)
	add("page size", Config{PageSize: 4 << 20}, ms)
	add("replication", Config{ReplicationFactor: 20}, ms)
	for name, r := range differ {
		if r.Version() == base.Version() {
			t.Errorf("%s: same version", name)
		}
	}
	if (Config{}).Hash() != (Config{}.WithDefaults()).Hash() {
		t.Errorf("zero config and explicit defaults hash differently")
	}
	var nilRing *Ring
	if nilRing.Version() != 0 || nilRing.Owner("x") != "" || nilRing.Owners("x", 3) != nil || nilRing.Len() != 0 || nilRing.OwnerIndex("x") != -1 {
		t.Errorf("nil ring not empty")
	}
}

// TestBoundedLoad: no member owns more than ceil(Load * Partitions / n), and
// shares sum to 1.
func TestBoundedLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 3))
	for _, load := range []float64{1, 1.25, 2} {
		for _, n := range memberSizes(rng) {
			cfg := Config{Load: load}
			r, err := New(cfg, randMembers(rng, n))
			if err != nil {
				t.Fatal(err)
			}
			bound := math.Ceil(float64(DefaultPartitions) / float64(n) * load)
			var sum float64
			for _, m := range r.Members() {
				s := r.Share(m)
				sum += s
				if got := s * DefaultPartitions; got > bound+1e-6 {
					t.Errorf("load %v, %d members: %s owns %.0f partitions > bound %.0f", load, n, m, got, bound)
				}
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("shares sum to %v", sum)
			}
			if r.Share("not-a-member") != 0 {
				t.Errorf("share of non-member")
			}
		}
	}
}

// TestOwners: distinct, owner first, stable across calls, prefix-consistent
// (Owners(k, n) is a prefix of Owners(k, n+1)), all members when n >= count.
func TestOwners(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 4))
	for _, n := range []int{1, 2, 3, 9, 16, 64, 300} {
		ms := randMembers(rng, n)
		r, err := New(Config{Partitions: 1021}, ms)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			key := fmt.Sprintf("lake/%d", rng.Int())
			all := r.Owners(key, n+5)
			if len(all) != n {
				t.Fatalf("Owners(%d) of %d members: %d", n+5, n, len(all))
			}
			sorted := slices.Clone(all)
			slices.Sort(sorted)
			if !slices.Equal(sorted, r.Members()) {
				t.Fatalf("Owners(all) is not a permutation of the members")
			}
			if all[0] != r.Owner(key) || r.Members()[r.OwnerIndex(key)] != all[0] {
				t.Fatalf("owner not first")
			}
			for _, k := range []int{1, 3, n + 2} {
				idx := r.AppendOwnerIndexes(nil, key, k)
				want := r.Owners(key, k)
				for i, m := range idx {
					if r.Members()[m] != want[i] {
						t.Fatalf("AppendOwnerIndexes(%q, %d) = %v, Owners %v", key, k, idx, want)
					}
				}
				if len(idx) != len(want) {
					t.Fatalf("AppendOwnerIndexes length %d, Owners %d", len(idx), len(want))
				}
			}
			for k := 1; k <= min(n, 12); k++ {
				got := r.Owners(key, k)
				if !slices.Equal(got, all[:k]) {
					t.Fatalf("%d members: Owners(%q,%d)=%v not a prefix of %v", n, key, k, got, all)
				}
			}
			// The returned slice is the caller's: changing it changes
			// nothing in the ring.
			got := r.Owners(key, 2)
			got[0] = "mutated"
			if r.Owner(key) == "mutated" {
				t.Fatalf("Owners returned the ring's own memory")
			}
		}
		if r.Owners("k", 0) != nil || r.Owners("k", -1) != nil {
			t.Fatalf("n <= 0 must give nil")
		}
	}
}

func TestEmptyRing(t *testing.T) {
	r, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner("a/b") != "" || r.Owners("a/b", 3) != nil || len(r.Members()) != 0 || r.Share("x") != 0 {
		t.Fatalf("empty ring returned owners")
	}
	if r.Version() == 0 {
		t.Fatalf("an empty ring still has a version")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := []Config{
		{},
		{Partitions: 1},
		{Partitions: MaxPartitions},
		{Load: 1},
		{Load: MaxLoad},
		{PageSize: 1},
		{ReplicationFactor: 1},
		{ReplicationFactor: MaxReplicationFactor},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []Config{
		{Partitions: -1},
		{Partitions: MaxPartitions + 1},
		{Load: 0.999},
		{Load: -1},
		{Load: MaxLoad + 0.001},
		{Load: math.NaN()},
		{Load: math.Inf(1)},
		{PageSize: -1},
		{ReplicationFactor: -1},
		{ReplicationFactor: MaxReplicationFactor + 1},
	}
	for _, c := range bad {
		err := c.Validate()
		if !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: got %v, want ErrBadConfig", c, err)
		}
		if _, err := New(c, []string{"a"}); !errors.Is(err, ErrBadConfig) {
			t.Errorf("New(%+v): got %v, want ErrBadConfig", c, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}, []string{"a", ""}); !errors.Is(err, ErrBadMember) {
		t.Errorf("empty ID: %v", err)
	}
	if _, err := New(Config{}, []string{"a", "b", "a"}); !errors.Is(err, ErrBadMember) {
		t.Errorf("duplicate ID: %v", err)
	}
	// Members == partitions is the boundary that works; one more fails.
	ms := randMembers(rand.New(rand.NewPCG(1, 1)), 8)
	if _, err := New(Config{Partitions: 7}, ms[:7]); err != nil {
		t.Errorf("7 members, 7 partitions: %v", err)
	}
	if _, err := New(Config{Partitions: 7}, ms); !errors.Is(err, ErrTooManyMembers) {
		t.Errorf("8 members, 7 partitions: %v", err)
	}
	if _, err := New(Config{Partitions: 1, ReplicationFactor: 1}, ms[:1]); err != nil {
		t.Errorf("1 member, 1 partition: %v", err)
	}
}

// TestFitsMatchesConsistent derives the no-room condition from consistent
// itself: over a grid of partitions, members and loads (including loads < 1,
// which Validate refuses, to reach the failing side) consistent.New panics
// exactly when fits() is false.
func TestFitsMatchesConsistent(t *testing.T) {
	var sawPanic, sawFit int
	for _, parts := range []int{1, 2, 7, 10, 271} {
		for members := 1; members <= min(parts, 12); members++ {
			for _, load := range []float64{0.5, 0.9, 0.99, 0.999, 1, 1.25} {
				ms := make([]string, members)
				for i := range ms {
					ms[i] = fmt.Sprintf("m%d", i)
				}
				panicked := func() (p bool) {
					defer func() { p = recover() != nil }()
					newConsistent(Config{Partitions: parts, Load: load, ReplicationFactor: 20}, ms)
					return false
				}()
				if panicked == fits(parts, members, load) {
					t.Fatalf("partitions %d members %d load %v: consistent panicked=%v, fits=%v", parts, members, load, panicked, fits(parts, members, load))
				}
				if panicked {
					sawPanic++
				} else {
					sawFit++
				}
			}
		}
	}
	if sawPanic == 0 || sawFit == 0 {
		t.Fatalf("grid does not cross the boundary: %d panics, %d fits", sawPanic, sawFit)
	}
}

// moved returns the fraction of partitions whose owner differs; keys are
// uniform over partitions, so it is the fraction of keys that move.
func moved(a, b *Ring) float64 {
	var n int
	for p := 0; p < int(a.parts); p++ {
		if a.members[a.table[p*a.depth]] != b.members[b.table[p*b.depth]] {
			n++
		}
	}
	return float64(n) / float64(a.parts)
}

// movement builds a ring of n random members and returns the fraction of
// keys moved when one member joins and when one leaves.
func movement(t testing.TB, rng *rand.Rand, cfg Config, n int) (join, leave float64) {
	ms := randMembers(rng, n+1)
	base, err := New(cfg, ms[:n])
	if err != nil {
		t.Fatal(err)
	}
	joined, err := New(cfg, ms)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Delete(slices.Clone(ms[:n]), 0, 1)
	left, err := New(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	return moved(base, joined), moved(base, left)
}

// TestMovement: on a join or leave, the fraction of keys that move stays
// within a small factor of the ideal 1/n (the factor is what the default
// parameters were chosen for; see the package doc table).
func TestMovement(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 5))
	sizes := []int{3, 16, 64, 512}
	if testing.Short() {
		sizes = sizes[:3]
	}
	for _, n := range sizes {
		var j, l float64
		const trials = 3
		for i := 0; i < trials; i++ {
			a, b := movement(t, rng, Config{}, n)
			j += a / trials
			l += b / trials
		}
		ij, il := 1/float64(n+1), 1/float64(n)
		t.Logf("%d members: join %.2f%% (ideal %.2f%%), leave %.2f%% (ideal %.2f%%)", n, 100*j, 100*ij, 100*l, 100*il)
		if j > 2.5*ij || l > 2.5*il {
			t.Errorf("%d members: join moved %.2f%% (ideal %.2f%%), leave %.2f%% (ideal %.2f%%)", n, 100*j, 100*ij, 100*l, 100*il)
		}
	}
}

func TestHolderRace(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 6))
	var h Holder
	if h.Load() != nil || h.Load().Owner("x") != "" {
		t.Fatalf("zero Holder")
	}
	ms := randMembers(rng, 20)
	rings := make([]*Ring, 5)
	for i := range rings {
		r, err := New(Config{Partitions: 1021}, ms[:16+i])
		if err != nil {
			t.Fatal(err)
		}
		rings[i] = r
	}
	h.Store(rings[0])
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				r := h.Load()
				if o := r.Owners(fmt.Sprint(i), 3); len(o) != 3 || !r.Contains(o[0]) {
					t.Errorf("bad owners %v", o)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		old := h.Swap(rings[i%len(rings)])
		if old == nil {
			t.Errorf("Swap returned nil")
		}
	}
	wg.Wait()
}
