package membership

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/ringcache/ringcache/ring"
)

// Member is one known member as observed by the local node.
type Member struct {
	ID    string
	Meta  Meta
	State State  // observed: joining/active/leaving from Meta, dead/left when gone
	Addr  string // gossip address, host:port
}

// Stats counts what the membership loop did; for tests, metrics and logs.
type Stats struct {
	Events      uint64 // memberlist join/leave/update callbacks
	Rebuilds    uint64 // ring.New calls by the rebuild loop
	RingChanges uint64 // rebuilds that produced a new ring version
	Refused     uint64 // alive messages or merges refused as incompatible
}

// Membership is one running member. Its methods are safe for concurrent use.
type Membership struct {
	cfg  Config
	log  *slog.Logger
	ml   *memberlist.Memberlist
	name string

	cur ring.Holder

	mu        sync.Mutex // guards self, selfBytes, nodes, lastLog
	self      Meta
	selfBytes []byte
	nodes     map[string]*entry
	lastLog   map[string]time.Time // see shouldLog

	rebuildMu sync.Mutex          // one rebuild at a time: Start's and the loop's
	keyMu     sync.Mutex          // one keyring change (or read) at a time
	keyring   *memberlist.Keyring // memberlist's, nil without encryption

	subsMu  sync.Mutex
	subs    map[uint64]chan *ring.Ring
	nextSub uint64

	dirty    chan struct{} // capacity 1: "something changed", coalesced
	moved    chan struct{} // capacity 1: the cluster knows our name at another address
	stop     chan struct{}
	loops    sync.WaitGroup
	stopOnce sync.Once
	closed   atomic.Bool
	leaving  atomic.Bool   // Leave was called: never advertise alive again
	left     chan struct{} // closed once memberlist has queued our leave (see Leave)
	leftOnce sync.Once
	advMu    sync.Mutex   // orders re-advertising before Leave
	selfAddr atomic.Value // string, our advertised host:port, set once after Create

	events, rebuilds, changes, refused atomic.Uint64
	lastRefusal                        atomic.Pointer[error] // why refuse last said no
}

// Start validates cfg, starts memberlist, joins cfg.Join (see Config.Join for
// the retry and failure rules) and builds the first ring before it returns.
func Start(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	meta, err := cfg.effectiveMeta()
	if err != nil {
		return nil, err
	}
	metaBytes, err := EncodeMeta(meta)
	if err != nil {
		return nil, err
	}
	empty, err := ring.New(cfg.Ring, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: ring config: %w", ErrConfig, err)
	}
	m := &Membership{
		cfg:       cfg,
		log:       cfg.Logger, // the caller's logger names the node (node.Start adds it)
		name:      cfg.Name,
		self:      meta,
		selfBytes: metaBytes,
		nodes:     make(map[string]*entry),
		lastLog:   make(map[string]time.Time),
		subs:      make(map[uint64]chan *ring.Ring),
		dirty:     make(chan struct{}, 1),
		stop:      make(chan struct{}),
		moved:     make(chan struct{}, 1),
		left:      make(chan struct{}),
	}
	m.cur.Store(empty)

	mc, err := m.memberlistConfig()
	if err != nil {
		return nil, err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start memberlist on %s:%d: %w", cfg.BindAddr, cfg.BindPort, err)
	}
	m.ml = ml
	m.selfAddr.Store(ml.LocalNode().Address())
	m.loops.Add(3)
	go m.loop()
	go m.readvertiseLoop()
	go m.reconnectLoop()

	if err := m.join(); err != nil {
		m.stopLoop()
		_ = ml.Shutdown()
		return nil, err
	}
	m.rebuild()
	m.log.Info("membership started", "addr", m.LocalAddr(), "state", meta.State,
		"members", ml.NumMembers(), "ring_version", m.Ring().VersionString())
	return m, nil
}

// Ring returns the current ring. It never returns nil and never blocks.
func (m *Membership) Ring() *ring.Ring { return m.cur.Load() }

// Stats returns the counters of this member.
func (m *Membership) Stats() Stats {
	return Stats{
		Events:      m.events.Load(),
		Rebuilds:    m.rebuilds.Load(),
		RingChanges: m.changes.Load(),
		Refused:     m.refused.Load(),
	}
}

// LocalAddr returns the gossip address other members reach this node at
// (useful with BindPort 0).
func (m *Membership) LocalAddr() string {
	// Not ml.LocalNode(): it points into memberlist's state, which
	// UpdateNode rewrites without a lock the caller could take.
	addr, _ := m.selfAddr.Load().(string)
	return addr
}

// Shutdown stops gossip and the rebuild loop and closes every Watch channel.
// It does not tell the others (see Leave). Calling it again is a no-op.
func (m *Membership) Shutdown() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.stopLoop()
	err := m.ml.Shutdown()
	m.subsMu.Lock()
	for id, ch := range m.subs {
		delete(m.subs, id)
		close(ch)
	}
	m.subsMu.Unlock()
	m.log.Info("membership shut down")
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

func (m *Membership) stopLoop() {
	m.stopOnce.Do(func() { close(m.stop) })
	m.loops.Wait()
}
