package testseed

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// fakeTB records what New does with a test; methods New does not call are
// left to the embedded nil interface (they would panic).
type fakeTB struct {
	testing.TB
	name     string
	failed   bool
	cleanups []func()
	logs     []string
}

// fatal is what fakeTB.Fatalf panics with, so New stops there as it would
// under a real t.Fatalf.
type fatal string

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Name() string      { return f.name }
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) { panic(fatal(fmt.Sprintf(format, args...))) }

// finish runs the cleanups as the testing package does at the end of a test.
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestEnvOverrideIsHonoured(t *testing.T) {
	t.Setenv(Env, "12345")
	f := &fakeTB{name: "TestX"}
	if got := New(f); got != 12345 {
		t.Fatalf("New = %d, want 12345 from %s", got, Env)
	}
	if a, b := Rand(f).Uint64(), FromSeed(12345).Uint64(); a != b {
		t.Fatalf("Rand with %s=12345 drew %d, FromSeed(12345) %d", Env, a, b)
	}
}

func TestLegacyEnvIsHonouredUnderEnv(t *testing.T) {
	t.Setenv(Env, "")
	t.Setenv(legacyEnv, "7")
	if got := New(&fakeTB{name: "TestX"}); got != 7 {
		t.Fatalf("New = %d, want 7 from %s", got, legacyEnv)
	}
	t.Setenv(Env, "8")
	if got := New(&fakeTB{name: "TestX"}); got != 8 {
		t.Fatalf("New = %d, want 8: %s wins over %s", got, Env, legacyEnv)
	}
}

func TestWithoutEnvSeedsDiffer(t *testing.T) {
	t.Setenv(Env, "")
	t.Setenv(legacyEnv, "")
	f := &fakeTB{name: "TestX"}
	// Two equal 64-bit draws in a row would be a broken source, not luck.
	if a, b := New(f), New(f); a == b {
		t.Fatalf("two fresh seeds are both %d", a)
	}
}

func TestBadEnvFailsTheTest(t *testing.T) {
	t.Setenv(Env, "not-a-number")
	defer func() {
		r, ok := recover().(fatal)
		if !ok || !strings.Contains(string(r), Env) {
			t.Fatalf("New with a bad %s: recovered %v, want a Fatalf naming it", Env, r)
		}
	}()
	New(&fakeTB{name: "TestX"})
}

func TestReplayLinePrintedOnlyOnFailure(t *testing.T) {
	t.Setenv(Env, "99")
	pass := &fakeTB{name: "TestPass"}
	New(pass)
	pass.finish()
	if len(pass.logs) != 0 {
		t.Fatalf("a passing test logged %q", pass.logs)
	}

	fail := &fakeTB{name: "TestFail/sub_case"}
	New(fail)
	fail.failed = true
	fail.finish()
	want := "replay with: RINGCACHE_TEST_SEED=99 go test -run '^TestFail$/^sub_case$' github.com/ringcache/ringcache/internal/testseed"
	if len(fail.logs) != 1 || fail.logs[0] != want {
		t.Fatalf("a failing test logged %q, want [%q]", fail.logs, want)
	}
}

func TestRunPatternQuotesMeta(t *testing.T) {
	if got, want := runPattern("TestA/x.y+"), `^TestA$/^x\.y\+$`; got != want {
		t.Fatalf("runPattern = %q, want %q", got, want)
	}
}

// helperEnv makes TestHelperFailing fail on purpose; it is set only by
// TestRealFailurePrintsReplay for its subprocess.
const helperEnv = "TESTSEED_HELPER_FAIL"

func TestHelperFailing(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("only run as the subprocess of TestRealFailurePrintsReplay")
	}
	New(t)
	t.Error("failing on purpose")
}

// TestRealFailurePrintsReplay runs a real failing test in a subprocess (this
// test binary) and checks that go test's output carries the replay line.
func TestRealFailurePrintsReplay(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperFailing$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", Env+"=4242")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing subprocess passed:\n%s", out)
	}
	want := "replay with: RINGCACHE_TEST_SEED=4242 go test -run '^TestHelperFailing$' github.com/ringcache/ringcache/internal/testseed"
	if !strings.Contains(string(out), want) {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
}
