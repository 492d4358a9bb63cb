package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/grpc"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/node/internal/shadow"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
)

// Start opens the store (replaying its journal), listens, joins the cluster
// and returns once the node is a member serving reads.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// n is not the named result: the error returns below (nil, err) must
	// not clear it under the goroutines started here and the teardown.
	n := &Node{cfg: cfg, log: cfg.Logger, now: time.Now, under: cfg.UnderStore, meta: newMetaCache(), stop: make(chan struct{})}
	defer func() {
		if err != nil {
			n.teardown()
		}
	}()
	if err := n.resolveID(); err != nil {
		return nil, err
	}
	// Storage first: /readyz waits for the replay.
	if err := n.openStore(); err != nil {
		return nil, err
	}
	adv, err := n.listen()
	if err != nil {
		return nil, err
	}
	if err := n.startServers(); err != nil {
		return nil, err
	}
	if err := n.joinCluster(adv); err != nil {
		return nil, err
	}
	// Ready once we are in our own ring: until then no client routes to us.
	if err := n.waitInRing(ctx); err != nil {
		return nil, err
	}
	// The S3 listener was bound (and advertised) with the others; requests
	// wait in its backlog until the node has a ring to route them by.
	if err := n.startGateway(); err != nil {
		return nil, err
	}
	n.ready.Store(true)
	n.log.Info("node ready", "grpc", n.grpcAddr, "http", n.httpAddr, "s3", n.s3Addr, "gossip", n.members.LocalAddr(),
		"ring", n.ring().VersionString(), "pages", n.store.Stats().Pages)
	return n, nil
}

// resolveID makes the data dir and fixes the node's name: the configured
// one, or the one kept in the data dir (created on first start).
func (n *Node) resolveID() error {
	if err := os.MkdirAll(n.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node: data dir: %w", err)
	}
	n.id = n.cfg.ID
	if n.id == "" {
		var err error
		if n.id, err = loadOrCreateID(n.cfg.DataDir); err != nil {
			return err
		}
	}
	n.log = n.log.With("node", n.id)
	return nil
}

// openStore opens the page store (replaying its journal), the metrics that
// read it and the fetcher that fills it.
func (n *Node) openStore() error {
	cfg := &n.cfg
	dirs := []storage.DirConfig{{Path: filepath.Join(cfg.DataDir, "pages"), Capacity: cfg.Capacity}}
	if len(cfg.DataDirs) > 0 {
		dirs = dirs[:0]
		for _, d := range cfg.DataDirs {
			dirs = append(dirs, storage.DirConfig{Path: d.Path, Capacity: d.Capacity})
		}
	}
	scfg := storage.Config{
		Dirs:        dirs,
		JournalDir:  filepath.Join(cfg.DataDir, "journal"),
		PageSize:    cfg.PageSize,
		ScopeQuotas: cfg.ScopeQuotas,
		Logger:      n.log.With("component", "storage"),
	}
	var err error
	if n.store, err = storage.Open(scfg); err != nil {
		return fmt.Errorf("node: open page store: %w", err)
	}
	shcfg := cfg.shadowConfig()
	shcfg.Now = n.now
	if n.shadow, err = shadow.New(shcfg); err != nil {
		return fmt.Errorf("node: shadow cache: %w", err)
	}
	n.metrics = newMetrics(n)
	if n.spool, err = openSpool(filepath.Join(cfg.DataDir, "spool"), cfg.spoolLimit()); err != nil {
		return err
	}
	n.metrics.replaySeconds.Set(n.store.Stats().ReplaySeconds)
	n.fetch = pagefetch.New(pagefetch.Config{PageSize: cfg.PageSize, MaxRun: cfg.CoalescePages, Timeout: cfg.UnderStoreTimeout,
		Store: n.storePage, Fetched: n.fetched, Stored: n.storedPage})
	return nil
}

// storedPage reads a whole cached page with every chunk verified.
func (n *Node) storedPage(key storage.PageKey, size int64) ([]byte, bool) {
	if !n.store.HasPage(key) {
		return nil, false
	}
	buf := make([]byte, size)
	if _, err := n.store.ReadPage(key, 0, buf); err != nil {
		return nil, false
	}
	return buf, true
}

// storePage writes a page fetched from the under-store into the store.
func (n *Node) storePage(key storage.PageKey, data []byte) {
	if err := n.store.PutPage(key, data); err != nil && !errors.Is(err, storage.ErrStaleVersion) {
		n.log.Warn("cache page", "page", key.Index, "err", err)
	}
}

// fetched counts bytes this node obtained for its page store: from the
// under-store, or from the previous owner (warm handoff).
func (n *Node) fetched(source string, bytes int64, err error) {
	if bytes > 0 {
		n.metrics.readBytes.WithLabelValues(source).Add(float64(bytes))
	}
}

// listen opens the gRPC (control and page stream) and HTTP listeners and
// fixes the addresses others dial; it returns the advertised host.
func (n *Node) listen() (adv string, err error) {
	cfg := &n.cfg
	if n.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return "", fmt.Errorf("node: listen grpc-addr: %w", err)
	}
	host, _, _ := net.SplitHostPort(cfg.GRPCAddr)
	if adv, err = advertiseHost(cfg.AdvertiseHost, host); err != nil {
		return "", err
	}
	n.grpcAddr = net.JoinHostPort(adv, strconv.Itoa(n.grpcLis.Addr().(*net.TCPAddr).Port))
	if cfg.HTTPAddr != "-" {
		if n.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return "", fmt.Errorf("node: listen http-addr: %w", err)
		}
		n.httpAddr = net.JoinHostPort(adv, strconv.Itoa(n.httpLis.Addr().(*net.TCPAddr).Port))
	}
	if cfg.S3Addr != "" {
		if n.s3Lis, err = net.Listen("tcp", cfg.S3Addr); err != nil {
			return "", fmt.Errorf("node: listen s3-addr: %w", err)
		}
		n.s3Addr = net.JoinHostPort(adv, strconv.Itoa(n.s3Lis.Addr().(*net.TCPAddr).Port))
	}
	return adv, nil
}

// startServers builds the peer client and the servers, and serves the
// listeners: control RPCs and the page stream on one port, HTTP on another.
func (n *Node) startServers() error {
	var err error
	pcfg := transport.ClientConfig{Logger: n.log.With("component", "peers")}
	scfg := transport.ServerConfig{NodeID: n.id, MaxRequestLength: n.cfg.MaxReadLength,
		Logger: n.log.With("component", "transport")}
	if t := n.cfg.TLS; t != nil {
		pcfg.TLS = t.ClientConfig()
		scfg.TLS = t.ServerConfig()
		p := n.authPolicy()
		scfg.GRPCOptions = append(scfg.GRPCOptions,
			grpc.ChainUnaryInterceptor(p.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(p.StreamServerInterceptor()))
		if err := n.metrics.reg.Register(t.ExpiryCollector()); err != nil {
			return fmt.Errorf("node: register TLS metrics: %w", err)
		}
	}
	if n.peers, err = transport.NewClient(pcfg); err != nil {
		return fmt.Errorf("node: peer client: %w", err)
	}
	if _, ok := n.cfg.UnderStore.(UnderWriter); ok {
		scfg.Write = writeService{n}
	}
	n.srv, err = transport.NewServer(scfg, n, n)
	if err != nil {
		return fmt.Errorf("node: transport: %w", err)
	}
	if err := n.metrics.reg.Register(n.srv.Metrics()); err != nil {
		return fmt.Errorf("node: register gRPC metrics: %w", err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.srv.Serve(n.grpcLis); err != nil && !n.closing.Load() {
			n.log.Error("transport stopped", "err", err)
		}
	}()
	if n.httpLis != nil {
		// Refused handshakes (scanners, plain HTTP to HTTPS) are the
		// client's problem: logged at debug level, not on stderr.
		n.httpSrv = &http.Server{Handler: n.httpHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(n.log.With("component", "http").Handler(), slog.LevelDebug)}
		l := n.httpLis
		if n.cfg.TLS != nil {
			l = tls.NewListener(l, n.cfg.TLS.HTTPSConfig())
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.httpSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("http stopped", "err", err)
			}
		}()
	}
	return nil
}

// startGateway serves the S3 gateway on its listener, reading through this
// node (and so through the cluster) and listing from the under-store.
func (n *Node) startGateway() error {
	if n.s3Lis == nil {
		return nil
	}
	gcfg := n.cfg.gatewayConfig()
	gcfg.Logger = n.log.With("component", "s3")
	gcfg.Registerer = n.metrics.reg
	var err error
	var opts []gateway.Option
	if _, ok := n.cfg.UnderStore.(UnderWriter); ok {
		opts = append(opts, gateway.WithWriter(n))
	}
	if n.s3, err = gateway.New(gcfg, n, n.cfg.UnderStore.(gateway.Store), opts...); err != nil {
		return fmt.Errorf("node: s3 gateway: %w", err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		l := n.s3Lis
		if n.cfg.TLS != nil {
			l = tls.NewListener(l, n.cfg.TLS.HTTPSConfig())
		}
		if err := n.s3.Serve(l); err != nil && !n.closing.Load() {
			n.log.Error("s3 gateway stopped", "err", err)
		}
	}()
	return nil
}

// joinCluster gossips as joining, switches to active (the servers already
// serve) and starts remembering ring changes for warm handoff.
func (n *Node) joinCluster(adv string) error {
	keys, err := n.loadKeys()
	if err != nil {
		return err
	}
	if n.members, err = membership.Start(n.membershipConfig(adv, keys)); err != nil {
		return fmt.Errorf("node: join cluster: %w", err)
	}
	if err := n.members.SetState(membership.StateActive); err != nil {
		return fmt.Errorf("node: become active: %w", err)
	}
	n.wg.Add(1)
	go n.watchRing()
	return nil
}

// membershipConfig is the membership configuration of this node, which
// advertises adv when it listens on all interfaces (or is told to), with
// the gossip keys of keys (loadKeys).
func (n *Node) membershipConfig(adv string, keys [][]byte) membership.Config {
	cfg := &n.cfg
	ghost, gport, _ := net.SplitHostPort(cfg.GossipAddr)
	gp, _ := strconv.Atoi(gport)
	mcfg := membership.Config{
		Name:            n.id,
		BindAddr:        ghost,
		BindPort:        gp,
		Join:            cfg.Join,
		Keys:            keys,
		AcceptPlaintext: cfg.GossipAcceptPlaintext,
		SendPlaintext:   cfg.GossipSendPlaintext,
		Label:           cfg.ClusterName,
		Ring:            cfg.Ring,
		Logger:          n.log.With("component", "membership"),
		Meta: membership.Meta{
			GRPCAddr: n.grpcAddr, HTTPAddr: n.httpAddr, S3Addr: n.s3Addr, Zone: cfg.Zone,
			Capacity: n.store.Stats().CapacityBytes, PageSize: cfg.PageSize, State: membership.StateJoining, Build: cfg.Build,
			TLS: cfg.TLSDataPort,
		},
	}
	if cfg.GossipProfile == "local" {
		mcfg.Timing = membership.LocalTiming() // loopback: failures detected in ~1s, not ~5s
	}
	if cfg.AdvertiseHost != "" || ghost == "" || net.ParseIP(ghost).IsUnspecified() {
		mcfg.AdvertiseAddr = adv
	}
	return mcfg
}

// waitInRing returns once this node is in its own ring.
func (n *Node) waitInRing(ctx context.Context) error {
	w, cancel := n.members.Watch()
	defer cancel()
	for {
		if r := n.ring(); r != nil && r.Share(n.id) > 0 {
			return nil
		}
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("node: waiting to enter the ring: %w", ctx.Err())
		}
	}
}

// watchRing remembers the ring before each change, for warm handoff.
func (n *Node) watchRing() {
	defer n.wg.Done()
	w, cancel := n.members.Watch()
	defer cancel()
	cur := n.ring()
	for {
		select {
		case r := <-w:
			if cur != nil && r.Version() != cur.Version() {
				n.prev.Lock()
				n.prev.ring, n.prev.at = cur, n.now()
				n.prev.Unlock()
			}
			cur = r
		case <-n.stop:
			return
		}
	}
}
