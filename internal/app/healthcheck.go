package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runHealthcheck is the probe of container health checks: images are FROM
// scratch and have no shell or curl, so the binary checks itself. It GETs
// --url and succeeds only on a 200.
func runHealthcheck(env Env, args []string) error {
	fs := newFlags(env, "healthcheck", "ringcache healthcheck [--url URL] [--timeout 2s]")
	fs.WantArgs(0, 0)
	url := fs.String("url", "http://127.0.0.1:7180/readyz", "URL that must answer 200")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	if _, err := fs.Parse(args, env.LookupEnv); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", *url, resp.Status)
	}
	return nil
}
