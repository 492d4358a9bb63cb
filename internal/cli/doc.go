// Package cli holds what ringcache's command line adds to
// github.com/alecthomas/kong, which parses flags and positionals, prints the
// help and builds the completion model (kong rather than spf13/cobra: one
// struct tag per flag gives its name, default, help and placeholder; flags
// may follow positionals by default; a hook can add sources between the
// defaults and the command line; nothing in it exits the process unless
// asked, so exit codes stay the caller's; completion comes from the same
// model through willabides/kongplete):
//
//   - Sources: every flag also reads RINGCACHE_<FLAG> and a --config YAML
//     file (keys are flag names), with the precedence of CONTRACT.md —
//     flag > env > file > default. kong's own env support reads the file
//     above env and cannot be pointed at a lookup function, hence this.
//   - Size: a flag type in the size syntax (64MiB, 1GB, 4096), with
//     ParseSize and FormatSize, also used by node configuration and output.
//   - UsageError and its sentinels: bad usage is one line and exit 2.
//
// It holds no process-wide state: the environment comes in as a lookup
// function, so tests and several commands may parse concurrently. It must
// not run commands, log, or exit the process.
package cli
