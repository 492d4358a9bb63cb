package tlsconf

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reloader holds a node's certificate, key and CA pool and re-reads them on
// demand. Every config it hands out reads the current set at handshake
// time, so a reload needs no restart and drops no connection. It is safe
// for concurrent use.
type Reloader struct {
	files Files
	log   *slog.Logger
	now   func() time.Time

	mu  sync.Mutex // serialises Reload
	cur atomic.Pointer[material]
}

// NewReloader loads files (all three are needed) and checks them as Reload
// does. log receives reload outcomes; nil discards.
func NewReloader(files Files, log *slog.Logger) (*Reloader, error) {
	return newReloader(files, log, time.Now)
}

func newReloader(files Files, log *slog.Logger, now func() time.Time) (*Reloader, error) {
	if !files.Enabled() {
		return nil, fmt.Errorf("%w: no TLS files", ErrConfig)
	}
	if err := files.ValidateNode(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{files: files, log: log, now: now}
	m, err := load(files, now())
	if err != nil {
		return nil, err
	}
	buildServerConfigs(m)
	r.cur.Store(m)
	return r, nil
}

// Reload re-reads the certificate, key and CA bundle. A set that would
// leave the node without a valid certificate (unparseable, a key that does
// not match, not valid now, not signed by the new CA) is refused: the
// previous set stays in use, the refusal is logged, and the error wraps
// ErrReload.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, err := load(r.files, r.now())
	if err != nil {
		r.log.Error("TLS reload refused; the previous certificate stays", "cert", r.files.Cert, "err", err)
		return fmt.Errorf("%w: %w", ErrReload, err)
	}
	buildServerConfigs(m)
	old := r.cur.Swap(m)
	r.log.Info("TLS certificate reloaded", "cert", r.files.Cert, "serial", m.leaf.SerialNumber.String(),
		"previous_serial", old.leaf.SerialNumber.String(), "not_after", m.leaf.NotAfter.UTC())
	return nil
}

// Certificate is the leaf certificate in use.
func (r *Reloader) Certificate() *x509.Certificate { return r.cur.Load().leaf }

// Files are the files the reloader reads.
func (r *Reloader) Files() Files { return r.files }

// ExpiryMetricName is the gauge of the certificate's expiry.
const ExpiryMetricName = "ringcache_tls_certificate_expiry_timestamp_seconds"

// ExpiryCollector is a gauge of the current certificate's NotAfter, in Unix
// seconds, for the node to register.
func (r *Reloader) ExpiryCollector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: ExpiryMetricName,
		Help: "When the node's TLS certificate in use expires (Unix seconds).",
	}, func() float64 { return float64(r.Certificate().NotAfter.Unix()) })
}
