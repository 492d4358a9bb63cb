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
	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/transport"
)

// clientFlags are the flags every client command takes.
type clientFlags struct {
	configFlag `embed:""`

	Seeds   []string      `name:"seeds" default:"127.0.0.1:7100" placeholder:"ADDR" help:"gRPC addresses of any nodes."`
	Timeout time.Duration `name:"timeout" default:"5m" help:"Give up after this long."`
	Verbose bool          `name:"verbose" help:"Log to stderr."`
	TLSCert string        `name:"tls-cert" placeholder:"FILE" help:"TLS client certificate (for nodes started with --tls-*)."`
	TLSKey  string        `name:"tls-key" placeholder:"FILE" help:"Key of --tls-cert."`
	TLSCA   string        `name:"tls-ca" placeholder:"FILE" help:"CA bundle the nodes' certificates are verified against (turns TLS on)."`
}

func (f *clientFlags) tlsFiles() tlsconf.Files {
	return tlsconf.Files{Cert: f.TLSCert, Key: f.TLSKey, CA: f.TLSCA}
}

// checkTLS refuses TLS flags that do not go together.
func (f *clientFlags) checkTLS(cmd string) error {
	files := f.tlsFiles()
	switch {
	case files.Enabled() && files.CA == "":
		return cli.Usagef(cmd, "--tls-ca is needed with --tls-cert/--tls-key (to verify the node's certificate)")
	case (files.Cert == "") != (files.Key == ""):
		return cli.Usagef(cmd, "--tls-cert and --tls-key go together")
	}
	return nil
}

// withClient is the part every client command shares: it opens a client on
// --seeds, runs do with a context that carries --timeout and the signals,
// and closes everything afterwards.
func (f *clientFlags) withClient(env Env, cmd string, do func(ctx context.Context, c *client.Client) error) error {
	if err := f.checkTLS(cmd); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if f.Verbose {
		log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	base, stop := runContext(env)
	defer stop()
	ctx, cancel := context.WithTimeout(base, f.Timeout)
	defer cancel()
	c, err := client.New(ctx, client.Config{Seeds: f.Seeds, Logger: log, TLSFiles: f.tlsFiles()})
	if err != nil {
		return err
	}
	defer c.Close()
	return do(ctx, c)
}

// checkPath checks a path argument; a prefix (ending in "/") is allowed
// when allowPrefix is set.
func checkPath(cmd, p string, allowPrefix bool) error {
	var err error
	if allowPrefix && strings.HasSuffix(p, "/") {
		err = objpath.ValidatePrefix(p)
	} else {
		err = transport.ValidatePath(p)
	}
	if err != nil {
		return cli.Usagef(cmd, "%v", err)
	}
	return nil
}

// getChunk is how much `get` reads per request.
const getChunk = 8 << 20

type getCmd struct {
	clientFlags `embed:""`

	Path    string `arg:"" help:"bucket/key of the file."`
	Offset  int64  `name:"offset" placeholder:"N" help:"First byte to read."`
	Length  int64  `name:"length" default:"-1" placeholder:"N" help:"Bytes to read; -1: the rest of the file."`
	Output  string `name:"output" short:"o" placeholder:"FILE" help:"Write to FILE instead of stdout."`
	NoCache bool   `name:"no-cache" help:"Read without filling the cache (cached pages are still used)."`
}

// Run reads the bytes.
func (g *getCmd) Run(env Env) error {
	const cmd = "ringcache get"
	if err := checkPath(cmd, g.Path, false); err != nil {
		return err
	}
	if g.Offset < 0 {
		return cli.Usagef(cmd, "--offset %d: must not be negative", g.Offset)
	}
	if g.Length < -1 {
		return cli.Usagef(cmd, "--length %d: must not be negative", g.Length)
	}
	return g.withClient(env, cmd, func(ctx context.Context, c *client.Client) error {
		var opts []client.ReadOption
		if g.NoCache {
			opts = append(opts, client.WithNoCache())
		}
		f, err := c.Open(ctx, g.Path, opts...)
		if err != nil {
			return err
		}
		if g.Offset > f.Size() {
			return fmt.Errorf("offset %d is past the end of %s (%d bytes)", g.Offset, g.Path, f.Size())
		}
		n := f.Size() - g.Offset
		if g.Length >= 0 {
			n = min(n, g.Length)
		}
		if g.Output == "" {
			return copyRange(env.Stdout, f, g.Offset, n)
		}
		return writeFileAtomic(g.Output, func(w io.Writer) error { return copyRange(w, f, g.Offset, n) })
	})
}

// copyRange copies n bytes of f from offset to w, getChunk at a time.
func copyRange(w io.Writer, f *client.File, offset, n int64) error {
	buf := make([]byte, min(n, getChunk))
	for done := int64(0); done < n; {
		chunk := buf[:min(n-done, int64(len(buf)))]
		got, err := f.ReadAt(chunk, offset+done)
		if err != nil && !(errors.Is(err, io.EOF) && got == len(chunk)) {
			return err
		}
		if _, err := w.Write(chunk[:got]); err != nil {
			return err
		}
		done += int64(got)
	}
	return nil
}

type statCmd struct {
	clientFlags `embed:""`

	Path string `arg:"" help:"bucket/key of the file."`
}

// Run prints the file's state.
func (s *statCmd) Run(env Env) error {
	const cmd = "ringcache stat"
	if err := checkPath(cmd, s.Path, false); err != nil {
		return err
	}
	return s.withClient(env, cmd, func(ctx context.Context, c *client.Client) error {
		st, err := c.Stat(ctx, s.Path)
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
	})
}

type loadCmd struct {
	clientFlags `embed:""`

	Path string `arg:"" help:"bucket/key of a file, or a prefix ending in /."`
	Pin  bool   `name:"pin" help:"Keep the loaded pages from eviction."`
}

// Run loads, with a progress bar.
func (l *loadCmd) Run(env Env) error {
	const cmd = "ringcache load"
	if err := checkPath(cmd, l.Path, true); err != nil {
		return err
	}
	return l.withClient(env, cmd, func(ctx context.Context, c *client.Client) error {
		bar := newProgress(env.Stdout)
		var last transport.LoadProgress
		err := c.Load(ctx, l.Path, l.Pin, func(lp transport.LoadProgress) {
			last = lp
			bar.update(lp)
		})
		bar.finish(last)
		return err
	})
}

// targetArgs are the flags and the argument of a command that takes one
// PATH or PREFIX/ and reports how many files it changed.
type targetArgs struct {
	clientFlags `embed:""`

	Path string `arg:"" help:"bucket/key of a file, or a prefix ending in /."`
}

func (t *targetArgs) run(env Env, name, done string, do func(context.Context, *client.Client, string) (int64, error)) error {
	cmd := "ringcache " + name
	if err := checkPath(cmd, t.Path, true); err != nil {
		return err
	}
	return t.withClient(env, cmd, func(ctx context.Context, c *client.Client) error {
		files, err := do(ctx, c, t.Path)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, done, files)
		return nil
	})
}

type unpinCmd struct {
	targetArgs `embed:""`
}

// Run unpins.
func (u *unpinCmd) Run(env Env) error {
	return u.run(env, "unpin", "unpinned: %d file(s)\n",
		func(ctx context.Context, c *client.Client, p string) (int64, error) {
			return c.SetPinned(ctx, p, false)
		})
}

type invalidateCmd struct {
	targetArgs `embed:""`
}

// Run invalidates.
func (i *invalidateCmd) Run(env Env) error {
	return i.run(env, "invalidate", "invalidated: %d cached file version(s) dropped\n",
		func(ctx context.Context, c *client.Client, p string) (int64, error) { return c.Invalidate(ctx, p) })
}

type membersCmd struct {
	clientFlags `embed:""`
}

// Run prints the members table. Each node reports its cached bytes and
// shadow cache itself (Members, transport.NodeStats); "-" where a node did
// not answer.
func (m *membersCmd) Run(env Env) error {
	return m.withClient(env, "ringcache members", func(ctx context.Context, c *client.Client) error {
		stats := c.MemberStats(ctx)
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "ID\tGRPC\tHTTP\tSTATE\tZONE\tSHARE\tCACHED\tSHADOW-WS\tSHADOW-HIT\n")
		window := ""
		for _, m := range c.Members() {
			bytes, ws, hit := "-", "-", "-"
			if st, ok := stats[m.ID]; ok {
				bytes = cli.FormatSize(st.UsedBytes)
				ws, hit = cli.FormatSize(st.ShadowWorkingSetBytes), fmt.Sprintf("%.1f%%", 100*st.ShadowHitRatio)
				window = st.ShadowWindow.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f%%\t%s\t%s\t%s\n", m.ID, m.GRPCAddr, m.HTTPAddr, m.State, dash(m.Zone), 100*m.Share, bytes, ws, hit)
		}
		fmt.Fprintf(tw, "\nring version %016x\n", c.RingVersion())
		if window != "" {
			fmt.Fprintf(tw, "shadow cache window %s: SHADOW-WS is the bytes of the distinct pages read from the node, SHADOW-HIT the hit ratio a cache holding them all would get\n", window)
		}
		return tw.Flush()
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type affinityCmd struct {
	clientFlags `embed:""`

	Paths []string `arg:"" name:"path" help:"bucket/key of files."`
	N     int      `name:"n" default:"3" help:"Preferred nodes per path."`
}

// Run prints the preferred nodes of each path.
func (a *affinityCmd) Run(env Env) error {
	const cmd = "ringcache affinity"
	if a.N < 1 {
		return cli.Usagef(cmd, "--n %d: must be at least 1", a.N)
	}
	for _, p := range a.Paths {
		if err := checkPath(cmd, p, false); err != nil {
			return err
		}
	}
	return a.withClient(env, cmd, func(_ context.Context, c *client.Client) error {
		for _, p := range a.Paths {
			var ids []string
			for _, m := range c.Preferred(p, a.N) {
				ids = append(ids, fmt.Sprintf("%s (%s)", m.ID, m.GRPCAddr))
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\n", p, strings.Join(ids, ", "))
		}
		return nil
	})
}

// writeFileAtomic writes a file through a temp file and a rename, so that
// a failed write leaves no partial file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
