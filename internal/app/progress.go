package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/transport"
)

// progress shows a load's progress: a redrawn bar on a terminal, one plain
// line per file otherwise (logs, CI).
type progress struct {
	w        io.Writer
	terminal bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, terminal: isTerminal(w)}
}

func (p *progress) update(lp transport.LoadProgress) {
	if !p.terminal {
		if lp.Path == "" {
			fmt.Fprintf(p.w, "loading %d file(s), %s\n", lp.FilesTotal, cli.FormatSize(lp.BytesTotal))
			return
		}
		status := "ok"
		if lp.Error != "" {
			status = "FAILED: " + lp.Error
		}
		fmt.Fprintf(p.w, "[%d/%d] %s %s\n", lp.FilesDone, lp.FilesTotal, lp.Path, status)
		return
	}
	const width = 30
	frac := 1.0
	if lp.BytesTotal > 0 {
		frac = float64(lp.BytesDone) / float64(lp.BytesTotal)
	}
	filled := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d/%d files  %s/%s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		100*frac, lp.FilesDone, lp.FilesTotal, cli.FormatSize(lp.BytesDone), cli.FormatSize(lp.BytesTotal))
	if lp.Error != "" {
		fmt.Fprintf(p.w, "\n%s: %s\n", lp.Path, lp.Error)
	}
}

func (p *progress) finish(lp transport.LoadProgress) {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "loaded %d/%d file(s), %s\n", lp.FilesDone, lp.FilesTotal, cli.FormatSize(lp.BytesDone))
}
