// Package membership keeps the set of ringcache nodes with hashicorp/memberlist
// (SWIM gossip) and turns it into the consistent-hash ring every node and
// client places files with.
//
// Each node gossips its Meta (addresses, zone, capacity, page size, ring
// parameters, state) as msgpack in memberlist's node metadata. The ring holds
// exactly the members whose gossiped state is StateActive and that memberlist
// considers alive; suspect members stay (they may be fine), dead and left
// ones go. A node whose page size or ring parameters differ would compute
// other owners, so it is refused at join on both sides.
//
// memberlist's callbacks only record the change and signal; one goroutine per
// Membership debounces bursts of changes and rebuilds the ring once per burst,
// publishes it through Ring (an atomic pointer, lock-free for readers) and to
// Watch subscribers (latest value wins; a slow subscriber never blocks a
// rebuild). The package does no I/O besides memberlist's sockets.
package membership

import (
	"cmp"
	"strings"

	"fmt"
	"log"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
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

// entry is the local record of one member.
type entry struct {
	Member
	gone    bool      // memberlist declared it dead or left
	goneAt  time.Time // when gone became true; bounds how long it stays listed
	leaving bool      // it told us directly that it is leaving (Leave)
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

	rebuildMu sync.Mutex // one rebuild at a time: Start's and the loop's

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

	ml, err := memberlist.Create(m.memberlistConfig())
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

// memberlistConfig maps Config onto memberlist's LAN defaults.
func (m *Membership) memberlistConfig() *memberlist.Config {
	c := m.cfg
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Name
	mc.BindAddr = c.BindAddr
	mc.BindPort = c.BindPort
	mc.AdvertiseAddr = c.AdvertiseAddr
	mc.AdvertisePort = c.AdvertisePort
	mc.SecretKey = c.SecretKey
	mc.DeadNodeReclaimTime = c.DeadNodeReclaimTime
	setDur(&mc.ProbeInterval, c.ProbeInterval)
	setDur(&mc.ProbeTimeout, c.ProbeTimeout)
	setDur(&mc.GossipInterval, c.GossipInterval)
	setDur(&mc.PushPullInterval, c.PushPullInterval)
	setDur(&mc.TCPTimeout, c.TCPTimeout)
	setDur(&mc.GossipToTheDeadTime, c.GossipToTheDeadTime)
	setInt(&mc.GossipNodes, c.GossipNodes)
	setInt(&mc.SuspicionMult, c.SuspicionMult)
	setInt(&mc.RetransmitMult, c.RetransmitMult)
	d := &delegate{m}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Merge = d
	mc.Conflict = d
	mc.Logger = log.New(&logBridge{log: m.log, closed: &m.closed}, "", 0)
	return mc
}

func setDur(dst *time.Duration, v time.Duration) {
	if v > 0 {
		*dst = v
	}
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}

// join runs the join rules documented on Config.Join.
func (m *Membership) join() error {
	if len(m.cfg.Join) == 0 {
		return nil
	}
	var lastErr error
	for attempt := 1; attempt <= m.cfg.JoinAttempts; attempt++ {
		refusedBefore := m.refused.Load()
		n, err := m.ml.Join(m.cfg.Join)
		if n > 0 {
			m.log.Info("joined cluster", "contacted", n, "attempt", attempt)
			return nil
		}
		lastErr = err
		if m.refused.Load() > refusedBefore {
			// Somebody answered and one side refused the other: retrying
			// cannot help, and starting alone would split the cluster.
			return fmt.Errorf("%w: refused by or refusing every peer in %v (page size %d, ring params %016x): %v",
				ErrIncompatible, m.cfg.Join, m.self.PageSize, m.self.RingVersionParams, err)
		}
		m.log.Warn("join attempt failed", "attempt", attempt, "of", m.cfg.JoinAttempts, "join", m.cfg.Join, "err", err)
		if attempt < m.cfg.JoinAttempts {
			t := time.NewTimer(m.cfg.JoinRetryInterval)
			<-t.C
		}
	}
	if m.cfg.JoinRequired {
		return fmt.Errorf("%w: no answer from %v after %d attempts: %v", ErrJoinFailed, m.cfg.Join, m.cfg.JoinAttempts, lastErr)
	}
	m.log.Warn("no join address answered; starting as the first node", "join", m.cfg.Join, "err", lastErr)
	return nil
}

// Ring returns the current ring. It never returns nil and never blocks.
func (m *Membership) Ring() *ring.Ring { return m.cur.Load() }

// Members returns every known member in any state, sorted by ID, including
// dead and left ones for a while (Config.KeepGone, at most Config.MaxGone).
func (m *Membership) Members() []Member {
	m.mu.Lock()
	m.pruneLocked(time.Now())
	out := make([]Member, 0, len(m.nodes))
	for _, e := range m.nodes {
		out = append(out, m.memberLocked(e))
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Member returns the member with this ID, if known.
func (m *Membership) Member(id string) (Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.nodes[id]
	if !ok {
		return Member{}, false
	}
	return m.memberLocked(e), true
}

// memberLocked returns e as seen now; the local node's meta is authoritative
// for itself (memberlist echoes it back only after gossiping it).
func (m *Membership) memberLocked(e *entry) Member {
	mb := e.Member
	if e.ID == m.name {
		mb.Meta = m.self
		mb.State = m.self.State
	}
	return mb
}

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

// Watch returns a channel that receives every new ring, starting with the
// current one, and a function that ends the subscription. The channel holds
// one ring: a subscriber that falls behind gets the newest ring, not every
// ring, and never slows the rebuild. The channel is closed by cancel or by
// Shutdown.
func (m *Membership) Watch() (<-chan *ring.Ring, func()) {
	ch := make(chan *ring.Ring, 1)
	m.subsMu.Lock()
	if m.closed.Load() {
		m.subsMu.Unlock()
		close(ch)
		return ch, func() {}
	}
	id := m.nextSub
	m.nextSub++
	m.subs[id] = ch
	ch <- m.cur.Load()
	m.subsMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			m.subsMu.Lock()
			defer m.subsMu.Unlock()
			if _, ok := m.subs[id]; ok {
				delete(m.subs, id)
				close(ch)
			}
		})
	}
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

// signal tells the loop that the member set may have changed. Never blocks.
func (m *Membership) signal() {
	select {
	case m.dirty <- struct{}{}:
	default: // a signal is already pending; the rebuild will see this change too
	}
}

// loop debounces signals and rebuilds the ring once per burst: it waits until
// Debounce has passed without a signal, or 10*Debounce since the first one.
func (m *Membership) loop() {
	defer m.loops.Done()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	maxWait := time.NewTimer(time.Hour)
	maxWait.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.dirty:
		}
		quiet.Reset(m.cfg.Debounce)
		maxWait.Reset(10 * m.cfg.Debounce)
	burst:
		for {
			select {
			case <-m.stop:
				return
			case <-m.dirty:
				quiet.Reset(m.cfg.Debounce)
			case <-quiet.C:
				break burst
			case <-maxWait.C:
				break burst
			}
		}
		quiet.Stop()
		maxWait.Stop()
		m.rebuild()
	}
}

// readvertiseLoop speeds up a restart at a new address (a rescheduled pod,
// a new port). The others still hold our name at the old address: they
// refuse the new one as a name conflict until the old one is declared dead
// and DeadNodeReclaimTime has passed, and then take the new address only
// from the next alive message about us, which memberlist otherwise sends at
// the next push/pull (30s on a LAN; 35s measured with LAN defaults). So when
// the cluster is seen to know our name elsewhere, this re-advertises us
// every interval for as long as the old entry can take to be reclaimed.
func (m *Membership) readvertiseLoop() {
	defer m.loops.Done()
	lan := memberlist.DefaultLANConfig()
	probe, mult := lan.ProbeInterval, lan.SuspicionMult
	setDur(&probe, m.cfg.ProbeInterval)
	setInt(&mult, m.cfg.SuspicionMult)
	interval := min(max(m.cfg.DeadNodeReclaimTime/4, 200*time.Millisecond), 2*time.Second)
	// Longest suspicion (memberlist: SuspicionMaxTimeoutMult(6) x
	// SuspicionMult x log10(members) x ProbeInterval), plus the reclaim time
	// and slack for gossip.
	window := func() time.Duration {
		n := max(m.ml.NumMembers(), 10)
		logN := math.Max(1, math.Log10(float64(n)))
		susp := time.Duration(float64(6*mult) * logN * float64(probe))
		return susp + m.cfg.DeadNodeReclaimTime + 5*time.Second
	}
	tick := time.NewTicker(interval)
	tick.Stop()
	defer tick.Stop()
	var until time.Time
	for {
		select {
		case <-m.stop:
			return
		case <-m.moved:
			if until.IsZero() {
				m.log.Info("the cluster knows this node at another address; re-advertising until it is reclaimed",
					"every", interval, "for", window())
			}
			until = time.Now().Add(window())
			tick.Reset(interval)
		case <-tick.C:
			if m.leaving.Load() || time.Now().After(until) {
				tick.Stop()
				until = time.Time{}
				continue
			}
			// advMu: an alive message after memberlist's leave would undo
			// it. A short timeout: best effort, must not hold up Shutdown.
			m.advMu.Lock()
			if !m.leaving.Load() {
				_ = m.ml.UpdateNode(min(interval, 500*time.Millisecond))
			}
			m.advMu.Unlock()
		}
	}
}

// reconnectLoop heals partitions (see Config.ReconnectInterval): every
// interval it joins one dead member's address, round robin, or the Join
// addresses while this node is alone. A quick TCP dial first skips
// addresses that do not answer, so a Shutdown never waits for memberlist's
// TCPTimeout here.
func (m *Membership) reconnectLoop() {
	defer m.loops.Done()
	if m.cfg.ReconnectInterval < 0 {
		return
	}
	tick := time.NewTicker(m.cfg.ReconnectInterval)
	defer tick.Stop()
	var next int
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		if m.leaving.Load() {
			continue
		}
		var addrs []string
		m.mu.Lock()
		for id, e := range m.nodes {
			if e.gone && e.State == StateDead && id != m.name && e.Addr != "" {
				addrs = append(addrs, e.Addr)
			}
		}
		m.mu.Unlock()
		if m.ml.NumMembers() <= 1 {
			addrs = append(addrs, m.cfg.Join...)
		}
		if len(addrs) == 0 {
			continue
		}
		slices.Sort(addrs)
		addr := addrs[next%len(addrs)]
		next++
		c, err := net.DialTimeout("tcp", addr, min(m.cfg.ReconnectInterval, time.Second))
		if err != nil {
			continue
		}
		c.Close()
		if n, err := m.ml.Join([]string{addr}); n > 0 {
			m.log.Info("reconnected to a member held as dead or a join address", "addr", addr)
		} else if m.shouldLog("reconnect " + addr) {
			m.log.Debug("reconnect failed", "addr", addr, "err", err)
		}
	}
}

// noteMoved records that the cluster holds our name at another address.
func (m *Membership) noteMoved(addr string) {
	if self, _ := m.selfAddr.Load().(string); self == "" || addr == self {
		return
	}
	select {
	case m.moved <- struct{}{}:
	default:
	}
}

// rebuild builds the ring from the members that are active and alive and
// publishes it if its version differs from the current one.
func (m *Membership) rebuild() {
	m.rebuildMu.Lock()
	defer m.rebuildMu.Unlock()

	m.mu.Lock()
	m.pruneLocked(time.Now())
	ids := make([]string, 0, len(m.nodes))
	for _, e := range m.nodes {
		if !e.gone && m.memberLocked(e).State == StateActive {
			ids = append(ids, e.ID)
		}
	}
	known := len(m.nodes)
	m.mu.Unlock()

	m.rebuilds.Add(1)
	r, err := ring.New(m.cfg.Ring, ids)
	if err != nil {
		// Keep serving the old ring: a wrong one would be worse.
		m.log.Error("ring rebuild failed; keeping the current ring", "members", len(ids), "err", err)
		return
	}
	old := m.cur.Load()
	if old.Version() == r.Version() {
		m.log.Debug("ring unchanged", "ring_version", r.VersionString(), "members", len(ids), "known", known)
		return
	}
	m.cur.Store(r)
	m.changes.Add(1)
	m.log.Info("ring rebuilt", "old_version", old.VersionString(), "new_version", r.VersionString(),
		"members", len(ids), "known", known)
	m.publish(r)
}

// publish hands r to every subscriber without blocking: a full channel holds
// an older ring, which is replaced. Only rebuild sends (under rebuildMu), so
// the drain-then-send cannot race with another sender.
func (m *Membership) publish(r *ring.Ring) {
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	for _, ch := range m.subs {
		select {
		case ch <- r:
			continue
		default:
		}
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- r:
		default:
		}
	}
}

// pruneLocked forgets gone members older than KeepGone and, beyond MaxGone,
// the oldest gone ones, so a churning cluster cannot grow the map forever.
func (m *Membership) pruneLocked(now time.Time) {
	var gone []*entry
	for id, e := range m.nodes {
		if !e.gone {
			continue
		}
		if now.Sub(e.goneAt) > m.cfg.KeepGone {
			delete(m.nodes, id)
			continue
		}
		gone = append(gone, e)
	}
	if len(gone) <= m.cfg.MaxGone {
		return
	}
	slices.SortFunc(gone, func(a, b *entry) int { return a.goneAt.Compare(b.goneAt) })
	for _, e := range gone[:len(gone)-m.cfg.MaxGone] {
		delete(m.nodes, e.ID)
	}
}

// record stores what memberlist told us about n.
func (m *Membership) record(n *memberlist.Node, gone bool) {
	addr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	meta, err := DecodeMeta(n.Meta)
	m.mu.Lock()
	e, ok := m.nodes[n.Name]
	if !ok {
		e = &entry{Member: Member{ID: n.Name}}
		m.nodes[n.Name] = e
	}
	e.Addr = addr
	if err == nil {
		e.Meta = meta
	}
	if gone {
		// memberlist does not say whether a member died or left; a node
		// that leaves through Leave gossips StateLeaving first.
		e.State = StateDead
		if e.Meta.State == StateLeaving || e.leaving {
			e.State = StateLeft
		}
		e.gone, e.goneAt = true, time.Now()
	} else {
		if e.gone {
			e.leaving = false // back: a new life
		}
		e.State = e.Meta.State
		e.gone = false
	}
	state := e.State
	m.mu.Unlock()
	if gone && n.Name == m.name {
		// Only memberlist's Leave marks us gone (it refutes anyone
		// else who says we are dead), after it queued the broadcast.
		m.leftOnce.Do(func() { close(m.left) })
	}
	m.events.Add(1)
	if err != nil && !gone {
		// NotifyAlive refuses such peers, so this is not expected.
		m.log.Warn("member with undecodable meta", "member", n.Name, "addr", addr, "err", err)
	}
	if n.Name != m.name {
		m.log.Debug("member event", "member", n.Name, "addr", addr, "state", state)
	}
	m.signal()
}

// refuse decides whether a peer's meta is compatible with ours; it logs a
// refusal at most every 10s per peer.
func (m *Membership) refuse(name, addr string, metaBytes []byte, how string) error {
	meta, err := DecodeMeta(metaBytes)
	m.mu.Lock()
	self := m.self
	m.mu.Unlock()
	if err == nil {
		err = compatible(self, meta)
	}
	if err == nil {
		return nil
	}
	m.refused.Add(1)
	if m.shouldLog("refuse/" + name) {
		m.log.Warn("refusing incompatible peer", "peer", name, "addr", addr, "how", how, "reason", err)
	}
	return err
}

// shouldLog rate-limits a repeated warning to once per 10s per key:
// memberlist hands us the same alive message of a refused or conflicting
// peer again and again.
func (m *Membership) shouldLog(key string) bool {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.lastLog[key]; ok && now.Sub(last) < 10*time.Second {
		return false
	}
	if len(m.lastLog) > 1024 { // bounded; at worst a line is logged again
		clear(m.lastLog)
	}
	m.lastLog[key] = now
	return true
}

// delegate implements memberlist's delegate interfaces. Its methods run on
// memberlist's goroutines, some under memberlist's locks: they only record
// and signal, never call back into memberlist, never block.
type delegate struct{ m *Membership }

// NodeMeta implements memberlist.Delegate. The size was checked when the
// meta was set.
func (d *delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	return d.m.selfBytes
}

func (d *delegate) NotifyMsg(b []byte) {
	name, ok := strings.CutPrefix(string(b), leaveMsg)
	if !ok || name == "" {
		return
	}
	d.m.mu.Lock()
	if e, ok := d.m.nodes[name]; ok {
		e.leaving = true
		if e.gone {
			e.State = StateLeft
		}
	}
	d.m.mu.Unlock()
	d.m.signal()
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

// NotifyJoin implements memberlist.EventDelegate.
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.m.record(n, false) }

// NotifyUpdate implements memberlist.EventDelegate (meta changed).
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.record(n, false) }

// NotifyLeave implements memberlist.EventDelegate (dead or left).
func (d *delegate) NotifyLeave(n *memberlist.Node) { d.m.record(n, true) }

// NotifyAlive implements memberlist.AliveDelegate: an alive message of an
// incompatible peer is ignored, so such a peer never becomes a member even
// if it reaches us through a third node's gossip.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name == d.m.name {
		return nil
	}
	return d.m.refuse(n.Name, n.Address(), n.Meta, "alive")
}

// NotifyMerge implements memberlist.MergeDelegate: a join's state exchange
// runs it on both sides, so both the joiner and the member it contacts
// refuse (and log) a mismatch, and the joiner's Join fails.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if n.Name == d.m.name {
			d.m.noteMoved(n.Address())
			continue
		}
		if n.State == memberlist.StateDead || n.State == memberlist.StateLeft {
			continue
		}
		if err := d.m.refuse(n.Name, n.Address(), n.Meta, "join"); err != nil {
			return fmt.Errorf("member %s: %w", n.Name, err)
		}
	}
	return nil
}

// NotifyConflict implements memberlist.ConflictDelegate: another node claims
// an existing member's name from another address, typically a restart at a
// new address before DeadNodeReclaimTime, or two nodes with the same --id.
func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	if existing.Name == d.m.name {
		d.m.noteMoved(other.Address())
	}
	if !d.m.shouldLog("conflict/" + existing.Name + "/" + other.Address()) {
		return
	}
	d.m.log.Warn("name conflict: same member name at two addresses", "member", existing.Name,
		"known_addr", existing.Address(), "other_addr", other.Address(),
		"hint", "a restart at a new address is accepted after DeadNodeReclaimTime; otherwise two nodes share an id")
}
