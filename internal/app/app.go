// Package app implements the ringcache command line: the subcommands, their
// flags (through internal/cli: flags, RINGCACHE_* env, --config YAML), and
// the exit codes of CONTRACT.md: 0 success, 1 a failed operation with one
// clear line on stderr, 2 bad usage. It holds no process-wide state: the
// process is handed in as an Env, so tests run commands in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/ringcache/ringcache/internal/cli"
)

// Env is the process a command runs in.
type Env struct {
	Args           []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	// Context, when set, stops long-running commands (node, dev) when done;
	// otherwise they stop on SIGINT/SIGTERM.
	Context context.Context
}

type command struct {
	summary string
	run     func(env Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"node":       {"run one node", runNode},
		"dev":        {"run a local cluster on loopback with a sample lake", runDev},
		"get":        {"read bytes of a file", runGet},
		"stat":       {"show a file's size, version, owner and what is cached", runStat},
		"load":       {"warm the cache with a file or a prefix/", runLoad},
		"unpin":      {"let pinned pages be evicted again", runUnpin},
		"invalidate": {"drop the cached version of a file or prefix/", runInvalidate},
		"members":    {"list the cluster's members", runMembers},
		"affinity":   {"show the preferred nodes of paths", runAffinity},
		"bench":      {"load-test a cluster (or --dev) against a no-cache baseline", runBench},

		"healthcheck": {"exit 0 when a URL (default: this host's /readyz) answers 200", runHealthcheck},
	}
}

// errFailed marks an operation that failed after its message was printed.
var errFailed = errors.New("failed")

// Main runs one command line and returns the exit code.
func Main(env Env) int {
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	cmds := commands()
	if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "--help" || env.Args[0] == "help" {
		fmt.Fprint(env.Stdout, topUsage(cmds))
		if len(env.Args) == 0 {
			return 2
		}
		return 0
	}
	name := env.Args[0]
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "ringcache: unknown command %q (see ringcache --help)\n", name)
		return 2
	}
	err := cmd.run(env, env.Args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrHelp):
		return 0
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintf(env.Stderr, "%v\n", err)
		return 2
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintf(env.Stderr, "ringcache %s: %s\n", name, oneLine(err))
		return 1
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func topUsage(cmds map[string]command) string {
	var b strings.Builder
	b.WriteString("ringcache — a masterless cache cluster for data-lake files\n\nUsage: ringcache COMMAND [flags] [args]\n\nCommands:\n")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-11s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nEvery flag also reads RINGCACHE_<FLAG> and --config FILE.yaml. Run ringcache COMMAND --help for its flags.\n")
	return b.String()
}

// newFlags makes a flag set whose help goes to env.Stdout.
func newFlags(env Env, name, synopsis string) *cli.FlagSet {
	fs := cli.NewFlagSet(name, synopsis)
	fs.SetOutput(env.Stdout)
	return fs
}

// newLogger builds the slog logger of --log-format (text or json).
func newLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// runContext is cancelled by SIGINT/SIGTERM, or by env.Context.
func runContext(env Env) (context.Context, context.CancelFunc) {
	if env.Context != nil {
		return context.WithCancel(env.Context)
	}
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
