package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/node/internal/shadow"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/tlsconf"
)

// ErrConfig marks an invalid node configuration.
var ErrConfig = errors.New("node: invalid config")

// DefaultClusterName is Config.ClusterName's default.
const DefaultClusterName = "ringcache"

// DirSpec is one page data directory and the page bytes it may hold.
type DirSpec struct {
	Path     string
	Capacity int64
}

// Config configures one node. A zero field means its default; Validate
// reports what cannot work before anything is started.
type Config struct {
	// ID is the stable node name (memberlist name). Default: kept in
	// <DataDir>/node-id, created once with a random name.
	ID string
	// DataDir holds node-id, journal/ and pages/. Default ./ringcache-data.
	DataDir string
	// Capacity is the page bytes this node may hold in <DataDir>/pages.
	// Default 1 GiB. Ignored when DataDirs is set.
	Capacity int64
	// DataDirs spreads pages over several directories, each with its own
	// capacity (--data-dirs DIR:SIZE,...). Default: one, <DataDir>/pages.
	DataDirs []DirSpec
	// PageSize must match on every node. Default 1 MiB.
	PageSize int64
	// UnderStore is where files live. Required.
	UnderStore UnderStore

	// GRPCAddr carries control RPCs and the page byte stream.
	// Default 127.0.0.1:7100; port 0 picks a free port.
	GRPCAddr string
	// GossipAddr is memberlist's TCP+UDP address. Default 127.0.0.1:7946.
	GossipAddr string
	// HTTPAddr serves /metrics, /healthz, /readyz, /v1/... Default
	// 127.0.0.1:7180; "-" disables it.
	HTTPAddr string
	// S3Addr, when set, is where the node serves its S3 gateway (and what
	// node metadata advertises). Empty: no gateway.
	S3Addr string
	// S3 configures the gateway (authentication, keys, limits); its
	// SyncInterval, Logger and Registerer come from the node. The
	// under-store must also list buckets (gateway.Store) for it.
	S3 gateway.Config
	// AdvertiseHost is what other nodes and clients dial. Default: the
	// listen host, or its first non-loopback address when it listens on all.
	AdvertiseHost string
	// Join lists gossip addresses of existing members.
	Join []string
	// Zone is an operator label carried in node metadata.
	Zone string
	// GossipKey, when set, encrypts gossip (AES, 16/24/32 bytes). With
	// GossipKeyring it only seeds a keyring file that does not exist yet.
	GossipKey []byte
	// GossipKeyring is a keyring file: a JSON array of base64 keys,
	// primary first (as Serf keeps it). It is loaded at start and
	// rewritten atomically on every keyring change (KeyringInstall, ...),
	// so a restarted node comes back with the cluster's current keys.
	// When it does not exist yet GossipKey creates it; once it exists it
	// wins over GossipKey (a warning says so if GossipKey is not in it).
	GossipKeyring string
	// GossipAcceptPlaintext and GossipSendPlaintext turn off memberlist's
	// GossipVerifyIncoming and GossipVerifyOutgoing (both on by default
	// when there is a key): the steps of turning encryption on in a
	// running cluster (README, "Securing a cluster").
	GossipAcceptPlaintext bool
	GossipSendPlaintext   bool
	// ClusterName is the gossip label (memberlist's Config.Label): nodes
	// with another name can neither join nor be joined. Default
	// "ringcache".
	ClusterName string
	// TLSDataPort says the gRPC + page-stream port speaks only TLS; it is
	// set whenever TLS is. It is carried in the node metadata; a peer with
	// the other mode is refused at join on both sides (a plaintext node
	// cannot dial a TLS one).
	TLSDataPort bool
	// TLS, when set, secures every listener and dialer of the node (see
	// CONTRACT.md "Security"): mTLS on the gRPC + page-stream port, peers
	// dialled with the node's certificate, HTTPS on the HTTP and S3
	// listeners. The caller reloads it (Reloader.Reload; SIGHUP in the
	// binary) to rotate certificates. nil: plaintext everywhere.
	TLS *tlsconf.Reloader
	// AdminNames are certificate common names allowed to change state
	// (invalidate, load, pin) besides node certificates and client ones
	// made with --admin. Used only with TLS.
	AdminNames []string

	// SyncInterval is how long file metadata is trusted before one Stat on
	// the under-store. Default 60s.
	SyncInterval time.Duration
	// ScopeQuotas caps the page bytes of files under a prefix on this node.
	ScopeQuotas map[string]int64
	// Ring holds the ring parameters; they must match on every node.
	Ring ring.Config

	// MaxReadLength bounds one read request. Default 1 GiB.
	MaxReadLength int64
	// SpoolLimit bounds the bytes of writes in flight that this node keeps
	// in <DataDir>/spool to fill its cache once the under-store has
	// acknowledged them (write_owner.go); a write that does not fit goes
	// through uncached. Default: half the page capacity.
	SpoolLimit int64
	// UnderStoreTimeout bounds one under-store request. Default 30s.
	UnderStoreTimeout time.Duration
	// CoalescePages is the most consecutive missing pages fetched with one
	// ranged under-store request. Default 16.
	CoalescePages int
	// ForwardTimeout bounds a forward to the owner before this node serves
	// the read itself. Default 5s.
	ForwardTimeout time.Duration
	// GossipProfile selects memberlist timers: "lan" (default) or "local"
	// (fast failure detection for tests and `ringcache dev`).
	GossipProfile string
	// ShadowWindow is the window of the shadow cache: how far back its
	// working set and hit ratio look. Default 24h; at least 4s (a second
	// a segment).
	ShadowWindow time.Duration
	// ShadowPages is the distinct pages a window the shadow cache is sized
	// for: 8 MiB of memory a million pages, accurate up to it. Default
	// 1<<20 (1 TiB of 1 MiB pages).
	ShadowPages int

	// StorageSyncInterval is the journal group-commit interval; 0 means the
	// storage default, negative means fsync every write.
	StorageSyncInterval time.Duration

	// Logger receives the node's logs. Default: discard.
	Logger *slog.Logger
	// Build is the version string gossiped in node metadata.
	Build string
}

func (c *Config) withDefaults() {
	if c.DataDir == "" {
		c.DataDir = "./ringcache-data"
	}
	if c.Capacity == 0 {
		c.Capacity = 1 << 30
	}
	if c.PageSize == 0 {
		c.PageSize = 1 << 20
	}
	if c.GRPCAddr == "" {
		c.GRPCAddr = "127.0.0.1:7100"
	}
	if c.GossipAddr == "" {
		c.GossipAddr = "127.0.0.1:7946"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:7180"
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = 60 * time.Second
	}
	if c.MaxReadLength == 0 {
		c.MaxReadLength = 1 << 30
	}
	if c.UnderStoreTimeout == 0 {
		c.UnderStoreTimeout = 30 * time.Second
	}
	if c.CoalescePages == 0 {
		c.CoalescePages = 16
	}
	if c.ForwardTimeout == 0 {
		c.ForwardTimeout = 5 * time.Second
	}
	if c.GossipProfile == "" {
		c.GossipProfile = "lan"
	}
	if c.ClusterName == "" {
		c.ClusterName = DefaultClusterName
	}
	if c.ShadowWindow == 0 {
		c.ShadowWindow = shadow.DefaultWindow
	}
	if c.ShadowPages == 0 {
		c.ShadowPages = shadow.DefaultPages
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Build == "" {
		c.Build = "dev"
	}
	c.Ring.PageSize = c.PageSize
	if c.TLS != nil {
		c.TLSDataPort = true
	}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.UnderStore == nil {
		return bad("an under-store is required")
	}
	if c.PageSize < storage.MinPageSize || c.PageSize > storage.MaxPageSize || c.PageSize&(c.PageSize-1) != 0 {
		return bad("page size %d must be a power of two between %d KiB and %d MiB", c.PageSize, storage.MinPageSize>>10, storage.MaxPageSize>>20)
	}
	if len(c.DataDirs) == 0 && c.Capacity < c.PageSize {
		return bad("capacity %d is smaller than one page (%d)", c.Capacity, c.PageSize)
	}
	for _, d := range c.DataDirs {
		if d.Path == "" || d.Capacity < c.PageSize {
			return bad("data dir %q: needs a path and a capacity of at least one page", d.Path)
		}
	}
	for _, a := range []struct{ name, addr string }{{"grpc-addr", c.GRPCAddr}, {"gossip-addr", c.GossipAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return bad("%s %q: %v", a.name, a.addr, err)
		}
	}
	if c.HTTPAddr != "-" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return bad("http-addr %q: %v", c.HTTPAddr, err)
		}
	}
	if c.SyncInterval < 0 {
		return bad("sync interval %s is negative", c.SyncInterval)
	}
	if c.SpoolLimit < 0 {
		return bad("spool limit %d is negative", c.SpoolLimit)
	}
	switch len(c.GossipKey) {
	case 0, 16, 24, 32:
	default:
		return bad("gossip key is %d bytes; AES needs 16, 24 or 32", len(c.GossipKey))
	}
	if len(c.ClusterName) > memberlist.LabelMaxSize {
		return bad("cluster name is %d bytes, at most %d", len(c.ClusterName), memberlist.LabelMaxSize)
	}
	for prefix, size := range c.ScopeQuotas {
		if prefix == "" || size <= 0 {
			return bad("scope quota %q=%d: needs a prefix and a positive size", prefix, size)
		}
	}
	if c.S3Addr != "" {
		if _, _, err := net.SplitHostPort(c.S3Addr); err != nil {
			return bad("s3-addr %q: %v", c.S3Addr, err)
		}
		if _, ok := c.UnderStore.(gateway.Store); !ok {
			return bad("the S3 gateway needs an under-store that lists buckets")
		}
		if err := c.gatewayConfig().Validate(); err != nil {
			return bad("s3 gateway: %v", err)
		}
	}
	if c.GossipProfile != "lan" && c.GossipProfile != "local" {
		return bad("gossip profile %q: want lan or local", c.GossipProfile)
	}
	if c.CoalescePages < 1 || c.MaxReadLength < 1 {
		return bad("coalesce pages and max read length must be positive")
	}
	if least := time.Duration(shadow.DefaultSegments) * time.Second; c.ShadowWindow < least {
		return bad("shadow window %s: want at least %s (a second for each of its %d segments)", c.ShadowWindow, least, shadow.DefaultSegments)
	}
	if err := c.shadowConfig().Validate(); err != nil {
		return bad("shadow pages %d: %v", c.ShadowPages, err)
	}
	return c.Ring.Validate()
}

// spoolLimit is SpoolLimit or its default.
func (c *Config) spoolLimit() int64 {
	if c.SpoolLimit > 0 {
		return c.SpoolLimit
	}
	total := c.Capacity
	if len(c.DataDirs) > 0 {
		total = 0
		for _, d := range c.DataDirs {
			total += d.Capacity
		}
	}
	return max(total/2, 64<<20)
}

// gatewayConfig is the S3 gateway's configuration: the node's sync
// interval (listings are as fresh as file metadata) and read limit unless
// set.
func (c *Config) gatewayConfig() gateway.Config {
	g := c.S3
	if g.SyncInterval == 0 {
		g.SyncInterval = c.SyncInterval
	}
	if g.ReadPiece == 0 {
		// One gateway read must be a read the node accepts.
		g.ReadPiece = min(gateway.DefaultReadPiece, c.MaxReadLength)
	}
	return g
}

// shadowConfig is the shadow cache's configuration (its clock is set by
// the node).
func (c *Config) shadowConfig() shadow.Config {
	return shadow.Config{Window: c.ShadowWindow, Pages: c.ShadowPages}
}

// loadOrCreateID returns the node id kept in dir/node-id, creating it once.
func loadOrCreateID(dir string) (string, error) {
	p := filepath.Join(dir, "node-id")
	b, err := os.ReadFile(p)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" || strings.ContainsAny(id, " \t\n/") {
			return "", fmt.Errorf("%w: %s holds no valid node id", ErrConfig, p)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node: read node id: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	id := fmt.Sprintf("%s-%s", sanitizeID(host), randomHex(4))
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node: write node id: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("node: write node id: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return id, nil
}

func sanitizeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("node: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("node: sync dir %s: %w", dir, err)
	}
	return nil
}

// advertiseHost picks the host others dial for a listener bound to host.
func advertiseHost(configured, listenHost string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	ip := net.ParseIP(listenHost)
	if listenHost != "" && (ip == nil || !ip.IsUnspecified()) {
		return listenHost, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("node: find advertise address: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "127.0.0.1", nil
}
