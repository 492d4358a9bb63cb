package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/transport"
)

// clientFlags are the flags every client command takes.
type clientFlags struct {
	seeds                  *[]string
	timeout                *time.Duration
	verbose                *bool
	tlsCert, tlsKey, tlsCA *string
}

func defineClientFlags(fs *cli.FlagSet) *clientFlags {
	fs.EnableConfigFile()
	return &clientFlags{
		seeds:   fs.CommaList("seeds", []string{"127.0.0.1:7100"}, "gRPC addresses of any nodes"),
		timeout: fs.Duration("timeout", 5*time.Minute, "give up after this long"),
		verbose: fs.Switch("verbose", false, "log to stderr"),
		tlsCert: fs.String("tls-cert", "", "TLS client certificate (mTLS; not implemented yet)"),
		tlsKey:  fs.String("tls-key", "", "TLS client key (mTLS; not implemented yet)"),
		tlsCA:   fs.String("tls-ca", "", "TLS CA bundle (mTLS; not implemented yet)"),
	}
}

// connect opens a client; the returned context carries --timeout.
func (f *clientFlags) connect(env Env, fs *cli.FlagSet) (context.Context, *client.Client, func(), error) {
	if *f.tlsCert != "" || *f.tlsKey != "" || *f.tlsCA != "" {
		return nil, nil, nil, fs.Usagef("--tls-cert/--tls-key/--tls-ca: TLS is not implemented yet")
	}
	log := slog.New(slog.DiscardHandler)
	if *f.verbose {
		log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	base, stop := runContext(env)
	ctx, cancel := context.WithTimeout(base, *f.timeout)
	c, err := client.New(ctx, client.Config{Seeds: *f.seeds, Logger: log})
	if err != nil {
		cancel()
		stop()
		return nil, nil, nil, err
	}
	return ctx, c, func() { c.Close(); cancel(); stop() }, nil
}

// pathArg checks a path argument and returns it; prefixes (ending in "/")
// are allowed when allowPrefix is set.
func pathArg(fs *cli.FlagSet, p string, allowPrefix bool) (string, error) {
	var err error
	if allowPrefix && strings.HasSuffix(p, "/") {
		err = validatePrefixArg(p)
	} else {
		err = transport.ValidatePath(p)
	}
	if err != nil {
		return "", fs.Usagef("%v", err)
	}
	return p, nil
}

func validatePrefixArg(p string) error {
	trimmed := strings.TrimSuffix(p, "/")
	if trimmed == "" {
		return fmt.Errorf("empty prefix")
	}
	for _, e := range strings.Split(trimmed, "/") {
		if e == "" || e == "." || e == ".." {
			return fmt.Errorf("prefix %q has a bad element %q", p, e)
		}
	}
	return nil
}

// getChunk is how much `get` reads per request.
const getChunk = 8 << 20

func runGet(env Env, args []string) error {
	fs := newFlags(env, "get", "ringcache get PATH [--offset N] [--length N] [-o FILE] [--no-cache]")
	fs.WantArgs(1, 1)
	cf := defineClientFlags(fs)
	offset := fs.Int64("offset", 0, "first byte to read")
	length := fs.Int64("length", -1, "bytes to read (default: the rest of the file)")
	out := fs.String("output", "", "write to FILE instead of stdout")
	fs.Alias("o", "output")
	noCache := fs.Switch("no-cache", false, "read without filling the cache (cached pages are still used)")
	pos, err := fs.Parse(args, env.LookupEnv)
	if err != nil {
		return err
	}
	p, err := pathArg(fs, pos[0], false)
	if err != nil {
		return err
	}
	if *offset < 0 {
		return fs.Usagef("--offset %d: must not be negative", *offset)
	}
	if *length < -1 {
		return fs.Usagef("--length %d: must not be negative", *length)
	}
	ctx, c, done, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer done()
	var opts []client.ReadOption
	if *noCache {
		opts = append(opts, client.WithNoCache())
	}
	f, err := c.Open(ctx, p, opts...)
	if err != nil {
		return err
	}
	if *offset > f.Size() {
		return fmt.Errorf("offset %d is past the end of %s (%d bytes)", *offset, p, f.Size())
	}
	n := f.Size() - *offset
	if *length >= 0 {
		n = min(n, *length)
	}
	var w io.Writer = env.Stdout
	var tmp *os.File
	if *out != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*"); err != nil {
			return err
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	buf := make([]byte, min(n, getChunk))
	for done := int64(0); done < n; {
		chunk := buf[:min(n-done, int64(len(buf)))]
		got, err := f.ReadAt(chunk, *offset+done)
		if err != nil && !(errors.Is(err, io.EOF) && got == len(chunk)) {
			return err
		}
		if _, err := w.Write(chunk[:got]); err != nil {
			return err
		}
		done += int64(got)
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return err
		}
		tmp = nil
	}
	return nil
}

func runStat(env Env, args []string) error {
	fs := newFlags(env, "stat", "ringcache stat PATH")
	fs.WantArgs(1, 1)
	cf := defineClientFlags(fs)
	pos, err := fs.Parse(args, env.LookupEnv)
	if err != nil {
		return err
	}
	p, err := pathArg(fs, pos[0], false)
	if err != nil {
		return err
	}
	ctx, c, done, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer done()
	st, err := c.Stat(ctx, p)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "path:\t%s\n", st.Path)
	fmt.Fprintf(tw, "size:\t%d (%s)\n", st.Size, cli.FormatSize(st.Size))
	fmt.Fprintf(tw, "etag:\t%s\n", st.ETag)
	fmt.Fprintf(tw, "modified:\t%s\n", st.ModTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "version:\t%d\n", st.Version)
	fmt.Fprintf(tw, "owner:\t%s\n", st.Owner)
	pct := 100.0
	if st.Size > 0 {
		pct = 100 * float64(st.CachedBytes) / float64(st.Size)
	}
	fmt.Fprintf(tw, "cached:\t%d of %d pages, %s (%.0f%%)\n", st.CachedPages, st.TotalPages, cli.FormatSize(st.CachedBytes), pct)
	fmt.Fprintf(tw, "scope:\t%s\n", st.Scope)
	fmt.Fprintf(tw, "pinned:\t%t\n", st.Pinned)
	return tw.Flush()
}

func runLoad(env Env, args []string) error {
	fs := newFlags(env, "load", "ringcache load PATH|PREFIX/ [--pin]")
	fs.WantArgs(1, 1)
	cf := defineClientFlags(fs)
	pin := fs.Switch("pin", false, "keep the loaded pages from eviction")
	pos, err := fs.Parse(args, env.LookupEnv)
	if err != nil {
		return err
	}
	p, err := pathArg(fs, pos[0], true)
	if err != nil {
		return err
	}
	ctx, c, done, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer done()
	bar := newProgress(env.Stdout)
	var last transport.LoadProgress
	err = c.Load(ctx, p, *pin, func(lp transport.LoadProgress) {
		last = lp
		bar.update(lp)
	})
	bar.finish(last)
	return err
}

func runUnpin(env Env, args []string) error {
	return targetCommand(env, args, "unpin", "unpinned: %d file(s)\n",
		func(ctx context.Context, c *client.Client, p string) (int64, error) {
			return c.SetPinned(ctx, p, false)
		})
}

func runInvalidate(env Env, args []string) error {
	return targetCommand(env, args, "invalidate", "invalidated: %d cached file version(s) dropped\n",
		func(ctx context.Context, c *client.Client, p string) (int64, error) { return c.Invalidate(ctx, p) })
}

// targetCommand runs a command that takes one PATH or PREFIX/ and reports
// how many files it changed.
func targetCommand(env Env, args []string, name, done string, do func(context.Context, *client.Client, string) (int64, error)) error {
	fs := newFlags(env, name, "ringcache "+name+" PATH|PREFIX/")
	fs.WantArgs(1, 1)
	cf := defineClientFlags(fs)
	pos, err := fs.Parse(args, env.LookupEnv)
	if err != nil {
		return err
	}
	p, err := pathArg(fs, pos[0], true)
	if err != nil {
		return err
	}
	ctx, c, closeClient, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer closeClient()
	files, err := do(ctx, c, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, done, files)
	return nil
}

func runMembers(env Env, args []string) error {
	fs := newFlags(env, "members", "ringcache members")
	fs.WantArgs(0, 0)
	cf := defineClientFlags(fs)
	if _, err := fs.Parse(args, env.LookupEnv); err != nil {
		return err
	}
	ctx, c, done, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer done()
	cached := c.BytesCached(ctx)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tGRPC\tHTTP\tSTATE\tZONE\tSHARE\tCACHED\n")
	for _, m := range c.Members() {
		bytes := "-"
		if b, ok := cached[m.ID]; ok {
			bytes = cli.FormatSize(b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f%%\t%s\n", m.ID, m.GRPCAddr, m.HTTPAddr, m.State, dash(m.Zone), 100*m.Share, bytes)
	}
	fmt.Fprintf(tw, "\nring version %016x\n", c.RingVersion())
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runAffinity(env Env, args []string) error {
	fs := newFlags(env, "affinity", "ringcache affinity PATH... [--n 3]")
	fs.WantArgs(1, -1)
	cf := defineClientFlags(fs)
	n := fs.Int("n", 3, "preferred nodes per path")
	pos, err := fs.Parse(args, env.LookupEnv)
	if err != nil {
		return err
	}
	if *n < 1 {
		return fs.Usagef("--n %d: must be at least 1", *n)
	}
	for _, p := range pos {
		if _, err := pathArg(fs, p, false); err != nil {
			return err
		}
	}
	_, c, done, err := cf.connect(env, fs)
	if err != nil {
		return err
	}
	defer done()
	for _, p := range pos {
		var ids []string
		for _, m := range c.Preferred(p, *n) {
			ids = append(ids, fmt.Sprintf("%s (%s)", m.ID, m.GRPCAddr))
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\n", p, strings.Join(ids, ", "))
	}
	return nil
}
