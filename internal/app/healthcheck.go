package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheckCmd is the probe of container health checks: images are FROM
// scratch and have no shell or curl, so the binary checks itself. It GETs
// --url and succeeds only on a 200.
type healthcheckCmd struct {
	URL     string        `name:"url" default:"http://127.0.0.1:7180/readyz" help:"URL that must answer 200."`
	Timeout time.Duration `name:"timeout" default:"2s" help:"How long to wait for the answer."`
}

// Run does the check.
func (h *healthcheckCmd) Run() error {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
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
		return fmt.Errorf("%s: %s", h.URL, resp.Status)
	}
	return nil
}
