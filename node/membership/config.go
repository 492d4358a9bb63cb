package membership

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/ringcache/ringcache/ring"
)

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("membership: invalid config")
	// ErrMetaTooLarge reports node metadata above MetaMaxSize once encoded.
	ErrMetaTooLarge = errors.New("membership: node meta too large")
	// ErrBadMeta reports node metadata that does not decode.
	ErrBadMeta = errors.New("membership: bad node meta")
	// ErrIncompatible reports a peer (or cluster) with another page size or
	// other ring parameters; it is refused at join on both sides.
	ErrIncompatible = errors.New("membership: incompatible peer")
	// ErrJoinFailed reports that no address of Config.Join answered while
	// Config.JoinRequired was set.
	ErrJoinFailed = errors.New("membership: join failed")
	// ErrClosed reports a call after Shutdown.
	ErrClosed = errors.New("membership: shut down")
)

// Defaults for the zero value of Config fields.
const (
	DefaultBindAddr            = "0.0.0.0"
	DefaultDebounce            = 150 * time.Millisecond
	DefaultDeadNodeReclaimTime = 10 * time.Second
	DefaultJoinAttempts        = 3
	DefaultJoinRetryInterval   = time.Second
	DefaultReconnectInterval   = 10 * time.Second
	DefaultKeepGone            = 10 * time.Minute
	DefaultMaxGone             = 128
	DefaultLeaveTimeout        = 5 * time.Second
)

// Config configures one member. A zero field takes the default documented on
// it; Validate reports what cannot work.
type Config struct {
	// Name is the member's unique, stable ID (the memberlist node name and
	// the ID in the ring). Default: the host name.
	Name string

	// BindAddr and BindPort are where memberlist listens (TCP and UDP).
	// BindAddr default "0.0.0.0". BindPort 0 picks a free port (as with
	// net.Listen), which is what tests and the dev mode want; the node
	// passes 7946 (or --gossip-addr) explicitly.
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort are what other members dial, when it
	// differs from the bind address (docker, NAT). Default: the bind address
	// (or a private IP when bound to 0.0.0.0) and the bind port.
	AdvertiseAddr string
	AdvertisePort int

	// Join lists gossip addresses ("host:port") of existing members. Start
	// tries them JoinAttempts times, JoinRetryInterval apart. If none answers
	// the node starts on its own (it is the first node) unless JoinRequired
	// is set, in which case Start fails with ErrJoinFailed. If peers answered
	// but all refused us as incompatible, Start fails with ErrIncompatible
	// either way.
	Join              []string
	JoinRequired      bool
	JoinAttempts      int           // default 3
	JoinRetryInterval time.Duration // default 1s

	// SecretKey enables gossip encryption (AES-128/192/256: 16, 24 or 32
	// bytes). Peers without the same key can neither join nor be joined.
	// It is a keyring of one key; set Keys instead to start with several.
	SecretKey []byte

	// Keys is the gossip keyring, primary first (memberlist.Keyring): the
	// primary encrypts, every key decrypts, so a key can be rotated
	// across a live cluster (SetKeys) without a restart. Each key is 16,
	// 24 or 32 bytes; Keys and SecretKey both set is an error.
	Keys [][]byte

	// AcceptPlaintext and SendPlaintext turn off memberlist's
	// GossipVerifyIncoming and GossipVerifyOutgoing, for turning
	// encryption on in a running cluster: every node first restarts with
	// the key and both set (it understands both and still sends
	// plaintext), then with SendPlaintext off (it sends encrypted, which
	// every node can read by then), then with AcceptPlaintext off. They
	// mean nothing without a key.
	AcceptPlaintext bool
	SendPlaintext   bool

	// Label is memberlist's label (Config.Label), the cluster name: it is
	// sent with every packet and stream (and authenticated with the key),
	// and a member with another label can neither join nor be joined.
	// Empty: unlabelled. At most memberlist.LabelMaxSize bytes.
	Label string

	// Meta is this node's metadata. Start sets RingVersionParams (from Ring)
	// and, when zero, PageSize (from Ring.PageSize after defaults) and State
	// (StateActive). A zero Ring.PageSize takes Meta.PageSize; both set and
	// different is an error. Start with StateJoining to stay out of the ring until
	// SetState(StateActive), e.g. until the journal is replayed.
	Meta Meta

	// Ring holds the ring parameters; members come from the gossip.
	Ring ring.Config

	// DeadNodeReclaimTime is how long after a member is declared dead its
	// name may be taken by a member at another address (a restart on a new
	// IP or port). Default 10s; memberlist's own default (never) made a
	// restarted node wait for the dead entry to be reaped, 31s here. A node
	// that finds its name known at another address re-advertises itself
	// until then; measured with LAN defaults and 5 members, an immediate
	// restart at a new port is known everywhere after ~16s (old entry
	// declared dead ~5s, then this 10s).
	DeadNodeReclaimTime time.Duration

	// ReconnectInterval is how often a node tries to join again one member
	// it holds as dead (not left), and its Join addresses while it is
	// alone. memberlist gossips to the dead only for GossipToTheDeadTime and
	// push/pulls only with live members, so without this the two sides of
	// a partition longer than that (30s on a LAN) hold each other dead
	// forever, as does a node that started alone because nobody answered
	// its join. Each try first dials the address over TCP (for at most
	// min(ReconnectInterval, 1s)) and joins only an address that answers.
	// Default 10s; negative turns it off.
	ReconnectInterval time.Duration

	// KeepGone and MaxGone bound how long and how many dead or left members
	// stay listed by Members for operators. Default 10m and 128.
	KeepGone time.Duration
	MaxGone  int

	// Logger receives this package's logs and memberlist's (at their level);
	// it should name the node (this package adds no attribute for it).
	// nil discards.
	Logger *slog.Logger

	// Timing tunes failure detection, gossip and the ring rebuild; its zero
	// fields take memberlist's LAN defaults. LANTiming and LocalTiming are
	// the presets.
	Timing
}

// Timing tunes memberlist's failure detection and gossip, and the ring
// rebuild's debounce. A zero field takes the default given in parentheses:
// memberlist's LAN default (memberlist.DefaultLANConfig), which LANTiming
// spells out. LocalTiming is the preset for nodes on one host.
type Timing struct {
	// ProbeInterval (1s) is how often one random member is probed.
	ProbeInterval time.Duration
	// ProbeTimeout (500ms) is how long a direct probe waits for its ack;
	// below the round trip time every member is falsely suspected.
	ProbeTimeout time.Duration
	// GossipInterval (200ms) is how often broadcasts are sent.
	GossipInterval time.Duration
	// GossipNodes (3) is how many members each gossip round sends to.
	GossipNodes int
	// SuspicionMult (4) scales the suspicion timeout, SuspicionMult *
	// log10(N+1) * ProbeInterval: how long a suspect member has to refute
	// before it is declared dead.
	SuspicionMult int
	// PushPullInterval (30s) is how often the full state is synced with one
	// member.
	PushPullInterval time.Duration
	// TCPTimeout (10s) bounds a stream: join, push/pull, the leave notice.
	// A SetState waits this long for its broadcast (5s when zero).
	TCPTimeout time.Duration
	// GossipToTheDeadTime (30s) is how long dead members are still gossiped
	// to before memberlist forgets them (see Config.ReconnectInterval).
	GossipToTheDeadTime time.Duration
	// RetransmitMult (4) scales how often a broadcast is sent:
	// RetransmitMult * log10(N+1) times.
	RetransmitMult int

	// Debounce (150ms) is how long the member set must stay quiet before
	// the ring is rebuilt, so that a burst of joins rebuilds once; a rebuild
	// happens at the latest 10*Debounce after the first event of a burst,
	// so a steady trickle cannot starve it. Not a memberlist setting.
	Debounce time.Duration
}

// LANTiming returns the timings a zero Timing stands for: memberlist's LAN
// defaults (memberlist.DefaultLANConfig) and DefaultDebounce. A member that
// stops answering is declared dead after about 5s.
func LANTiming() Timing {
	lan := memberlist.DefaultLANConfig()
	return Timing{
		ProbeInterval:       lan.ProbeInterval,
		ProbeTimeout:        lan.ProbeTimeout,
		GossipInterval:      lan.GossipInterval,
		GossipNodes:         lan.GossipNodes,
		SuspicionMult:       lan.SuspicionMult,
		PushPullInterval:    lan.PushPullInterval,
		TCPTimeout:          lan.TCPTimeout,
		GossipToTheDeadTime: lan.GossipToTheDeadTime,
		RetransmitMult:      lan.RetransmitMult,
		Debounce:            DefaultDebounce,
	}
}

// LocalTiming returns the preset for nodes that share one host (ringcache
// dev, the node's GossipProfile "local"): loopback neither loses packets nor
// takes long, so probing and gossiping faster detects a failure in about a
// second instead of ~5s. The fields it leaves zero keep the LAN default.
func LocalTiming() Timing {
	return Timing{
		ProbeInterval:    200 * time.Millisecond,
		ProbeTimeout:     100 * time.Millisecond,
		GossipInterval:   50 * time.Millisecond,
		SuspicionMult:    2,
		PushPullInterval: 5 * time.Second,
		Debounce:         50 * time.Millisecond,
	}
}

// Validate reports a negative field as an error wrapping ErrConfig.
func (t Timing) Validate() error {
	for _, d := range []time.Duration{t.ProbeInterval, t.ProbeTimeout, t.GossipInterval, t.PushPullInterval,
		t.TCPTimeout, t.GossipToTheDeadTime, t.Debounce} {
		if d < 0 {
			return fmt.Errorf("%w: negative timing %v", ErrConfig, d)
		}
	}
	if t.GossipNodes < 0 || t.SuspicionMult < 0 || t.RetransmitMult < 0 {
		return fmt.Errorf("%w: negative gossip count or multiplier", ErrConfig)
	}
	return nil
}

// orLAN returns t with its zero fields set to LANTiming's.
func (t Timing) orLAN() Timing {
	lan := LANTiming()
	return Timing{
		ProbeInterval:       cmp.Or(t.ProbeInterval, lan.ProbeInterval),
		ProbeTimeout:        cmp.Or(t.ProbeTimeout, lan.ProbeTimeout),
		GossipInterval:      cmp.Or(t.GossipInterval, lan.GossipInterval),
		GossipNodes:         cmp.Or(t.GossipNodes, lan.GossipNodes),
		SuspicionMult:       cmp.Or(t.SuspicionMult, lan.SuspicionMult),
		PushPullInterval:    cmp.Or(t.PushPullInterval, lan.PushPullInterval),
		TCPTimeout:          cmp.Or(t.TCPTimeout, lan.TCPTimeout),
		GossipToTheDeadTime: cmp.Or(t.GossipToTheDeadTime, lan.GossipToTheDeadTime),
		RetransmitMult:      cmp.Or(t.RetransmitMult, lan.RetransmitMult),
		Debounce:            cmp.Or(t.Debounce, lan.Debounce),
	}
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name, _ = os.Hostname()
	}
	if c.BindAddr == "" {
		c.BindAddr = DefaultBindAddr
	}
	if c.AdvertisePort == 0 {
		c.AdvertisePort = c.BindPort
	}
	if c.ReconnectInterval == 0 {
		c.ReconnectInterval = DefaultReconnectInterval
	}
	if c.JoinAttempts == 0 {
		c.JoinAttempts = DefaultJoinAttempts
	}
	if c.JoinRetryInterval == 0 {
		c.JoinRetryInterval = DefaultJoinRetryInterval
	}
	if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
	if c.DeadNodeReclaimTime == 0 {
		c.DeadNodeReclaimTime = DefaultDeadNodeReclaimTime
	}
	if c.KeepGone == 0 {
		c.KeepGone = DefaultKeepGone
	}
	if c.MaxGone == 0 {
		c.MaxGone = DefaultMaxGone
	}
	if c.Meta.State == "" {
		c.Meta.State = StateActive
	}
	if c.Ring.PageSize == 0 {
		// One page size, given in either place: it is part of the ring
		// version, so the ring must be built with the advertised one.
		c.Ring.PageSize = c.Meta.PageSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem of c (after defaults) as an error
// wrapping ErrConfig, ErrMetaTooLarge or ErrBadMeta.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Name == "" {
		return fmt.Errorf("%w: empty Name and no host name", ErrConfig)
	}
	if net.ParseIP(c.BindAddr) == nil {
		return fmt.Errorf("%w: BindAddr %q is not an IP address", ErrConfig, c.BindAddr)
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		return fmt.Errorf("%w: AdvertiseAddr %q is not an IP address", ErrConfig, c.AdvertiseAddr)
	}
	for _, p := range []int{c.BindPort, c.AdvertisePort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%w: port %d out of range", ErrConfig, p)
		}
	}
	switch len(c.SecretKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("%w: SecretKey is %d bytes, want 16, 24 or 32", ErrConfig, len(c.SecretKey))
	}
	if len(c.SecretKey) > 0 && len(c.Keys) > 0 {
		return fmt.Errorf("%w: both SecretKey and Keys set", ErrConfig)
	}
	if err := validateKeys(c.Keys); err != nil {
		return err
	}
	if len(c.Label) > memberlist.LabelMaxSize {
		return fmt.Errorf("%w: Label is %d bytes, at most %d", ErrConfig, len(c.Label), memberlist.LabelMaxSize)
	}
	if c.JoinAttempts < 0 || c.JoinRetryInterval < 0 || c.DeadNodeReclaimTime < 0 || c.KeepGone < 0 || c.MaxGone < 0 {
		return fmt.Errorf("%w: negative count or duration", ErrConfig)
	}
	if err := c.Timing.Validate(); err != nil {
		return err
	}
	if c.JoinRequired && len(c.Join) == 0 {
		return fmt.Errorf("%w: JoinRequired without Join addresses", ErrConfig)
	}
	if !c.Meta.State.gossiped() {
		return fmt.Errorf("%w: Meta.State %q, want joining, active or leaving", ErrConfig, c.Meta.State)
	}
	meta, err := c.effectiveMeta()
	if err != nil {
		return err
	}
	_, err = EncodeMeta(meta)
	return err
}

// effectiveMeta fills in the parts of Meta derived from the ring config.
func (c Config) effectiveMeta() (Meta, error) {
	m := c.Meta
	params, err := RingParams(c.Ring)
	if err != nil {
		return m, err
	}
	m.RingVersionParams = params
	ringPage := c.Ring.WithDefaults().PageSize
	switch {
	case m.PageSize == 0:
		m.PageSize = ringPage
	case ringPage != 0 && ringPage != m.PageSize:
		return m, fmt.Errorf("%w: Meta.PageSize %d differs from Ring.PageSize %d", ErrConfig, m.PageSize, ringPage)
	}
	return m, nil
}
