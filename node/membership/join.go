// Joining: telling a join that was refused from one that found nobody.

package membership

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrJoinRefused reports that a join address answered and one side refused
// the other: another gossip key (or encryption on one side only), another
// cluster name (memberlist label), or a peer vetoed by the merge delegate
// (ErrIncompatible: page size, ring parameters, TLS mode). Retrying cannot
// help and starting alone would split the cluster, so Start fails with it
// whatever JoinRequired says.
var ErrJoinRefused = errors.New("membership: join refused")

// joinResult is what one address made of a join.
type joinResult int

const (
	joined   joinResult = iota
	noAnswer            // nothing listens, or it never answered: retry
	refused             // it answered and one side said no: fail
)

// The messages memberlist v0.7 returns for a refused stream. memberlist
// formats its errors with %v, so their text is all a caller has; the tests
// in join_test.go pin each one against real memberlist so that an upgrade
// that rewords them fails there, not in production.
const (
	// The reader of a stream says these about what it read: the joiner of
	// its own, or the peer's relayed after "remote error: ".
	mlNoKeyDecrypts = "no installed keys could decrypt the message"                // another key
	mlEncryptedToUs = "remote state is encrypted and encryption is not configured" // reader has no key
	mlPlainToUs     = "encryption is configured but remote state is not encrypted" // reader wants encryption
	mlRemoteError   = "remote error:"
	// A peer that went away, or never answered.
	mlTimeout         = "i/o timeout"
	mlConnRefused     = "connection refused"
	mlNoRoute         = "no route to host"
	mlNetUnreachable  = "network is unreachable"
	mlResolveFailed   = "failed to resolve"
	mlHostUnreachable = "host is unreachable"
)

// join runs the join rules documented on Config.Join: every address is
// tried on its own so that each answer can be classified; one join is
// enough, one refusal (with no join) fails Start at once, and only when
// nobody answered does the node retry and then start alone.
func (m *Membership) join() error {
	if len(m.cfg.Join) == 0 {
		return nil
	}
	var lastErr error
	for attempt := 1; attempt <= m.cfg.JoinAttempts; attempt++ {
		ok := 0
		var refusals []error
		for _, addr := range m.cfg.Join {
			res, err := m.joinOne(addr, m.cfg.Timing.orLAN().TCPTimeout)
			switch res {
			case joined:
				ok++
			case refused:
				refusals = append(refusals, err)
			default:
				lastErr = err
			}
		}
		if ok > 0 {
			m.log.Info("joined cluster", "contacted", ok, "attempt", attempt)
			return nil
		}
		if len(refusals) > 0 {
			return errors.Join(refusals...)
		}
		m.log.Warn("join attempt failed: no join address answered", "attempt", attempt, "of", m.cfg.JoinAttempts, "join", m.cfg.Join, "err", lastErr)
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

// joinOne joins one address and says what came of it; dialTimeout bounds
// the first dial. A TCP dial first
// tells "nothing listens" apart from a refusal: memberlist closes a stream
// it refuses (another label) without a word, which the joiner sees as EOF
// or a reset, just like a peer that hung up.
func (m *Membership) joinOne(addr string, dialTimeout time.Duration) (joinResult, error) {
	dial := addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		dial = net.JoinHostPort(addr, strconv.Itoa(m.cfg.BindPort)) // memberlist's default port
	}
	if err := m.probe(dial, dialTimeout); err != nil {
		return noAnswer, err
	}
	refusedBefore := m.refused.Load()
	n, err := m.ml.Join([]string{addr})
	if n > 0 {
		return joined, nil
	}
	if err == nil {
		err = errors.New("no member joined")
	} else {
		err = errors.New(flatten(err))
	}
	if m.refused.Load() > refusedBefore {
		reason := err
		if p := m.lastRefusal.Load(); p != nil {
			reason = *p
		}
		return refused, fmt.Errorf("%w by %s: %w", ErrJoinRefused, addr, reason)
	}
	return classifyJoinError(addr, err, m.cfg.Label)
}

// classifyJoinError reads memberlist's join error for an address that
// accepted a TCP connection.
func classifyJoinError(addr string, err error, label string) (joinResult, error) {
	msg := err.Error()
	has := func(s string) bool { return strings.Contains(msg, s) }
	switch {
	case has(mlNoKeyDecrypts):
		return refused, fmt.Errorf("%w by %s: the cluster uses another gossip key (check --gossip-key / --gossip-keyring)", ErrJoinRefused, addr)
	case has(mlRemoteError + " " + mlEncryptedToUs):
		return refused, fmt.Errorf("%w by %s: the cluster has no gossip key and this node sends encrypted gossip (see turning encryption on in a running cluster)", ErrJoinRefused, addr)
	case has(mlEncryptedToUs):
		return refused, fmt.Errorf("%w by %s: the cluster encrypts gossip and this node has no gossip key", ErrJoinRefused, addr)
	case has(mlPlainToUs):
		return refused, fmt.Errorf("%w by %s: the cluster does not encrypt gossip and this node requires it (see turning encryption on in a running cluster)", ErrJoinRefused, addr)
	case has(mlRemoteError):
		return refused, fmt.Errorf("%w by %s: %v", ErrJoinRefused, addr, msg)
	case has(mlTimeout), has(mlConnRefused), has(mlNoRoute), has(mlNetUnreachable), has(mlHostUnreachable), has(mlResolveFailed):
		// Gone between the dial and the join, or accepted and never
		// answered: nobody to be refused by.
		return noAnswer, err
	}
	// Accepted, then closed without an answer (EOF, reset): memberlist does
	// that to a stream with another label.
	return refused, fmt.Errorf("%w by %s: it closed the connection without an answer; most likely it runs another --cluster-name (ours %q) (%s)", ErrJoinRefused, addr, label, msg)
}

// probe dials addr over TCP and hangs up. It sends our label header first,
// so that a member of our cluster reads an empty, well-labelled stream and
// stays quiet about it (memberlist logs an error for a stream without it).
func (m *Membership) probe(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if m.cfg.Label != "" {
		_ = c.SetDeadline(time.Now().Add(timeout))
		if err := memberlist.AddLabelHeaderToStream(c, m.cfg.Label); err != nil {
			return err
		}
	}
	return nil
}

// flatten makes memberlist's multierror ("1 error occurred:\n\t* failed
// to join ...: EOF\n\n") one line: "failed to join ...: EOF".
func flatten(err error) string {
	var parts []string
	for line := range strings.Lines(err.Error()) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasSuffix(line, "error occurred:") || strings.HasSuffix(line, "errors occurred:") {
			continue
		}
		parts = append(parts, strings.TrimPrefix(line, "* "))
	}
	return strings.Join(parts, "; ")
}
