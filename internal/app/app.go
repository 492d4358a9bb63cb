// Package app implements the ringcache command line: the subcommands, their
// flags (parsed by github.com/alecthomas/kong; RINGCACHE_* env and --config
// YAML through internal/cli), and the exit codes of CONTRACT.md: 0 success,
// 1 a failed operation with one clear line on stderr, 2 bad usage. It holds
// no process-wide state: the process is handed in as an Env, so tests run
// commands in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

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

// rootCmd is the command tree. Every command is a struct whose fields are
// its flags and positionals and whose Run method does the work.
type rootCmd struct {
	Help helpFlag `short:"h" help:"Show this help."`

	Node        nodeCmd        `cmd:"" help:"Run one node."`
	Dev         devCmd         `cmd:"" help:"Run a local cluster on loopback with a sample lake."`
	Get         getCmd         `cmd:"" help:"Read bytes of a file."`
	Stat        statCmd        `cmd:"" help:"Show a file's size, version, owner and what is cached."`
	Load        loadCmd        `cmd:"" help:"Warm the cache with a file or a prefix/."`
	Unpin       unpinCmd       `cmd:"" help:"Let pinned pages be evicted again."`
	Invalidate  invalidateCmd  `cmd:"" help:"Drop the cached version of a file or prefix/."`
	Members     membersCmd     `cmd:"" help:"List the cluster's members."`
	Affinity    affinityCmd    `cmd:"" help:"Show the preferred nodes of paths."`
	Keyring     keyringCmd     `cmd:"" help:"List or rotate the gossip keyring of every live member."`
	Bench       benchCmd       `cmd:"" help:"Load-test a cluster (or --dev) against a no-cache baseline."`
	Certs       certsCmd       `cmd:"" help:"Make a development CA and node or client certificates."`
	Healthcheck healthcheckCmd `cmd:"" help:"Exit 0 when a URL (default: this host's /readyz) answers 200."`
	Completion  completionCmd  `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
}

// helpFlag replaces kong's help flag, which exits the process: this one
// prints the help and ends the parse with cli.ErrHelp (exit 0).
type helpFlag bool

// BeforeReset is kong's hook, run when -h/--help is on the command line.
func (helpFlag) BeforeReset(ctx *kong.Context) error {
	if err := ctx.PrintUsage(false); err != nil {
		return err
	}
	return cli.ErrHelp
}

// configFlag is the --config flag of every command that reads a file.
type configFlag struct {
	Config string `name:"config" placeholder:"FILE" help:"Read flag values from this YAML file (keys are flag names)."`
}

// errFailed marks an operation that failed after its message was printed.
var errFailed = errors.New("failed")

const description = "ringcache — a masterless cache cluster for data-lake files.\n\n" +
	"Every flag also reads RINGCACHE_<FLAG> and --config FILE.yaml (flag > env > file > default). " +
	"Run ringcache COMMAND --help for its flags."

// newParser builds the kong parser of one command line.
func newParser(env Env, root *rootCmd, src *cli.Sources) (*kong.Kong, error) {
	return kong.New(root,
		kong.Name("ringcache"),
		kong.Description(description),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(int) {}), // nothing here exits the process; Main returns the code
		kong.NoDefaultHelp(),
		kong.ValueFormatter(cli.HelpValue),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		// A flag that takes a value takes the next argument whatever it
		// looks like: "-o -", "--offset -5" (refused later as negative).
		kong.WithHyphenPrefixedParameters(true),
		cli.StrictStrings(),
		src.Option(),
		benchVars(),
		kong.Bind(env, src),
	)
}

// Main runs one command line and returns the exit code.
func Main(env Env) int {
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	args := env.Args
	switch {
	case len(args) == 0:
		args = []string{"--help"}
	case args[0] == "help":
		args = append([]string{}, args[1:]...)
		args = append(args, "--help")
	}
	src := cli.NewSources(env.LookupEnv)
	root := &rootCmd{}
	parser, err := newParser(env, root, src)
	if err != nil { // a malformed command struct: a programming error any test finds
		fmt.Fprintf(env.Stderr, "ringcache: %v\n", err)
		return 1
	}
	if code, done := completeShell(env, parser); done {
		return code
	}
	if name := args[0]; !strings.HasPrefix(name, "-") && !isCommand(parser, name) {
		fmt.Fprintf(env.Stderr, "ringcache: unknown command %q (see ringcache --help)\n", name)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		if errors.Is(err, cli.ErrHelp) {
			if len(env.Args) == 0 {
				return 2 // a bare "ringcache" is bad usage, but helped
			}
			return 0
		}
		fmt.Fprintln(env.Stderr, usageLine(err))
		return 2
	}
	return exitCode(env, cli.CommandName(kctx), kctx.Run())
}

// exitCode prints a command's error (one line) and maps it to CONTRACT's codes.
func exitCode(env Env, cmd string, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintf(env.Stderr, "%s\n", oneLine(err))
		return 2
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintf(env.Stderr, "%s: %s\n", cmd, oneLine(err))
		return 1
	}
}

// usageLine is a parse error as one line naming the command.
func usageLine(err error) string {
	var ue *cli.UsageError
	if errors.As(err, &ue) {
		return oneLine(ue)
	}
	cmd := "ringcache"
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		cmd = cli.CommandName(pe.Context)
	}
	msg := oneLine(err)
	// kong says `--offset: expected an int but got "EOL" (<nil>)` when the
	// arguments end where a flag's value should be.
	if flag, _, ok := strings.Cut(msg, ": "); ok && strings.Contains(msg, `but got "EOL"`) {
		msg = flag + ": missing value"
	}
	return cmd + ": " + msg
}

func isCommand(parser *kong.Kong, name string) bool {
	for _, n := range parser.Model.Children {
		if n.Name == name {
			return true
		}
	}
	return false
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
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
