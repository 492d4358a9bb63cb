package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ringcache/ringcache/tlsconf"
)

// healthcheckCmd is the probe of container health checks: images are FROM
// scratch and have no shell or curl, so the binary checks itself. It GETs
// --url and succeeds only on a 200. A node started with --tls-* serves
// HTTPS: an https:// URL is verified against --tls-ca (no client
// certificate is needed for /readyz).
type healthcheckCmd struct {
	URL     string        `name:"url" default:"http://127.0.0.1:7180/readyz" help:"URL that must answer 200."`
	TLSCA   string        `name:"tls-ca" placeholder:"FILE" help:"CA bundle an https:// URL's certificate is verified against (default: the system roots)."`
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
	hc := http.DefaultClient
	if h.TLSCA != "" {
		tcfg, err := tlsconf.LoadClient(tlsconf.Files{CA: h.TLSCA})
		if err != nil {
			return err
		}
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: tcfg}}
	}
	resp, err := hc.Do(req)
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
