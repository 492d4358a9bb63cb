package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// procs are the processes the driver started for one system; stop ends
// each of them (SIGTERM, then SIGKILL after a grace period).
type procs struct {
	list []*exec.Cmd
	logs string   // directory of their stderr logs
	env  []string // added to the driver's environment
}

// start runs name with args, its stderr in logs/<tag>.log. When ready is
// non-empty, start waits (until the deadline) for that line on stdout;
// otherwise stdout goes to the log too.
func (p *procs) start(tag, ready string, deadline time.Duration, name string, args ...string) (*exec.Cmd, error) {
	logf, err := os.Create(p.logs + "/" + tag + ".log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), p.env...)
	var out io.ReadCloser
	if ready != "" {
		if out, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	} else {
		cmd.Stdout = logf
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tag, err)
	}
	p.list = append(p.list, cmd)
	if ready == "" {
		return cmd, nil
	}
	got := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == ready {
				got <- nil
				_, _ = io.Copy(logf, out)
				return
			}
		}
		got <- fmt.Errorf("%s exited before %q (see %s/%s.log)", tag, ready, p.logs, tag)
	}()
	select {
	case err := <-got:
		return cmd, err
	case <-time.After(deadline):
		return cmd, fmt.Errorf("%s: no %q within %v (see %s/%s.log)", tag, ready, deadline, p.logs, tag)
	}
}

// stop ends the processes, newest first.
func (p *procs) stop() {
	for i := len(p.list) - 1; i >= 0; i-- {
		c := p.list[i]
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	p.list = nil
}

// freePorts returns n loopback addresses free at the time of the call.
func freePorts(n int) ([]string, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// waitHTTP polls url until it answers want (any status when want <= 0)
// or the deadline passes.
func waitHTTP(ctx context.Context, url string, want int, deadline time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if want <= 0 || resp.StatusCode == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s did not answer %d", url, want), err)
		case <-tick.C:
		}
	}
}
