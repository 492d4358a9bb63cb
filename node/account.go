package node

import (
	"time"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/node/internal/shadow"

	"github.com/ringcache/ringcache/transport"
)

// pageOrigin is where one page a read sent came from, as far as hit/miss
// accounting is concerned.
//
// The rule: a read counts each page it touches once (by the piece that
// starts the page, pageSpan.count), as a miss when this read (any of its
// pieces, one ReadID) caused the page to be fetched, and as a hit when the
// page was in this node's store or in flight for another read. Its bytes
// count where this read got them: the page file (local) or the fetch this
// read started or joined (peer, under-store); a flight another read started
// serves this read from memory (local in its stats; the metrics counted
// those bytes when the other read fetched them).
type pageOrigin int

const (
	// originStore: a page of this node's store (sent from its file, or read
	// back by the fetcher because it landed meanwhile). A hit; its bytes
	// count as read_bytes_total{source="local"} here.
	originStore pageOrigin = iota
	// originJoined: a page whose fetch another read started. It costs this
	// read no request of its own, so it is a hit served from memory; its
	// bytes were counted (as peer or understore) when they were fetched.
	originJoined
	// originPeer: fetched for this read from the previous owner (warm
	// handoff). A miss; bytes counted when fetched.
	originPeer
	// originUnderstore: fetched for this read from the under-store. A
	// miss; bytes counted when fetched.
	originUnderstore
	// originStoreFetched: a page of this node's store that another piece
	// of the same split read (same non-zero ReadID) fetched, from the
	// under-store or a peer, and wrote before this piece, the one that
	// counts the page, looked for it. A miss, as if this piece had joined
	// that fetch: which piece of a read gets to a page first is a race the
	// stats must not show. Its bytes are sent from the page file, so they
	// count as local, like originStore's.
	originStoreFetched
)

// storedOrigin says how a page sent from this node's store counts for the
// read: a hit, unless another piece of the same read fetched it moments ago
// (the fetcher remembers that for recent fetches).
func (n *Node) storedOrigin(rd *localRead, sp pageSpan) pageOrigin {
	if rd.req.ReadID == 0 || !sp.count {
		return originStore // not a split read, or not the piece that counts
	}
	k := rd.key
	k.Index = sp.idx
	if n.fetch.FetchedBy(k, rd.req.ReadID) {
		return originStoreFetched
	}
	return originStore
}

// flightOrigin says how a page that came through a flight counts for the
// read. A flight joined from another piece of the same split read (same
// non-zero ReadID) is not a hit: the read as a whole fetched it.
func (n *Node) flightOrigin(rd *localRead, sp pageSpan, fl *pagefetch.Flight, joined bool) pageOrigin {
	readID := rd.req.ReadID
	switch {
	case fl.Source() == sourceLocal:
		// Read back from the store: written by a flight that ended
		// between this read's look-up and its own registration.
		return n.storedOrigin(rd, sp)
	case joined && (readID == 0 || fl.ReadID() != readID):
		return originJoined
	case fl.Source() == sourcePeer:
		return originPeer
	default:
		return originUnderstore
	}
}

// account adds one sent span to the read's stats and the node's metrics:
// every hit/miss and byte-source decision of the read path is here. The
// page that counts also goes to the shadow cache, unless a peer asks
// (FlagCachedOnly: a warm handoff, which the new owner records itself).
func (n *Node) account(st *transport.ReadStats, rd *localRead, o pageOrigin, sp pageSpan) {
	bytes := sp.hi - sp.lo
	hit := false
	switch o {
	case originStore:
		st.BytesLocal += bytes
		n.metrics.readBytesLocal.Add(float64(bytes))
		hit = true
	case originJoined:
		st.BytesLocal += bytes
		hit = true
	case originStoreFetched:
		st.BytesLocal += bytes
		n.metrics.readBytesLocal.Add(float64(bytes))
	case originPeer:
		st.BytesPeer += bytes
	default:
		st.BytesUnderstore += bytes
	}
	if !sp.count {
		return
	}
	if !rd.cachedOnly {
		n.shadow.Record(shadow.Key(rd.key.File, rd.key.Version, sp.idx), pagefetch.PageLen(rd.m.Size, rd.pageSize, sp.idx))
	}
	if hit {
		st.PagesHit++
		n.metrics.hits.Inc()
	} else {
		st.PagesMissed++
		n.metrics.misses.Inc()
	}
}

// observeRead records a served read's duration under the slowest source of
// its bytes.
func (n *Node) observeRead(start time.Time, st *transport.ReadStats) {
	obs := n.metrics.readDurLocal
	switch {
	case st.BytesUnderstore > 0:
		obs = n.metrics.readDurUnderstr
	case st.BytesPeer > 0:
		obs = n.metrics.readDurPeer
	}
	obs.Observe(time.Since(start).Seconds())
}
