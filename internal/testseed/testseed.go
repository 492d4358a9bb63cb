// Package testseed is the one seed convention of ringcache's tests: every
// randomized test draws its seed from New (or its source from Rand), and a
// failing test prints the command that replays it:
//
//	replay with: RINGCACHE_TEST_SEED=<n> go test -run '^TestName$' <package>
//
// Without RINGCACHE_TEST_SEED each call gets a fresh random seed, so runs
// keep exploring; with it, every call in the run gets that seed. The package
// holds no state and is imported only by tests.
package testseed

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// Env is the environment variable that fixes the seed of a run.
const Env = "RINGCACHE_TEST_SEED"

// legacyEnv is the name README.md documented for the chaos suite before
// Env; it is still honoured when Env is unset so written-down replay
// commands keep working.
const legacyEnv = "RINGCACHE_SEED"

// streamSalt is the PCG stream of Rand's source. Any constant works; it is
// fixed so that a seed alone replays a run.
const streamSalt = 0x9e3779b97f4a7c15

// New returns the seed of the test: the value of RINGCACHE_TEST_SEED if set
// (a decimal uint64; anything else fails the test), else a fresh random
// seed. If the test fails, a cleanup logs the command that replays it.
func New(t testing.TB) uint64 {
	t.Helper()
	seed, err := fromEnv(os.Getenv)
	if err != nil {
		t.Fatalf("testseed: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s", Replay(t.Name(), seed))
		}
	})
	return seed
}

// Rand returns a random source seeded by New(t).
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	return FromSeed(New(t))
}

// FromSeed is the source Rand derives from a seed, for tests that need the
// seed itself as well as a source.
func FromSeed(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^streamSalt))
}

// fromEnv reads the seed from Env (then legacyEnv) through getenv, or draws
// a fresh one.
func fromEnv(getenv func(string) string) (uint64, error) {
	for _, name := range []string{Env, legacyEnv} {
		v := getenv(name)
		if v == "" {
			continue
		}
		s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a decimal uint64: %w", name, v, err)
		}
		return s, nil
	}
	return rand.Uint64(), nil
}

// Replay is the line New logs when a test fails: the environment variable
// and the go test command that reruns just that test (subtests included)
// with the same seed, with the build tags of the running test binary.
func Replay(testName string, seed uint64) string {
	pkg, tags := binaryInfo()
	cmd := fmt.Sprintf("replay with: %s=%d go test", Env, seed)
	if tags != "" {
		cmd += " -tags " + tags
	}
	return fmt.Sprintf("%s -run '%s' %s", cmd, runPattern(testName), pkg)
}

// runPattern anchors each element of a (sub)test name, so -run matches that
// test alone and not TestFoo2 beside TestFoo.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// binaryInfo is the package under test and the -tags of the test binary,
// from its build info ("<import path>.test"); "." if it has none.
func binaryInfo() (pkg, tags string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ".", ""
	}
	pkg = strings.TrimSuffix(bi.Path, ".test")
	if pkg == "" {
		pkg = "."
	}
	for _, s := range bi.Settings {
		if s.Key == "-tags" {
			tags = s.Value
		}
	}
	return pkg, tags
}
