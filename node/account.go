package node

import (
	"time"

	"github.com/ringcache/ringcache/node/internal/pagefetch"

	"github.com/ringcache/ringcache/transport"
)

// pageOrigin is where one page a read sent came from, as far as hit/miss
// accounting is concerned.
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
)

// flightOrigin says how a page that came through a flight counts for the
// read with readID. A flight joined from another piece of the same split
// read (same non-zero ReadID) is not a hit: the read as a whole fetched it.
func flightOrigin(fl *pagefetch.Flight, joined bool, readID uint64) pageOrigin {
	switch {
	case fl.Source() == sourceLocal:
		return originStore
	case joined && (readID == 0 || fl.ReadID() != readID):
		return originJoined
	case fl.Source() == sourcePeer:
		return originPeer
	default:
		return originUnderstore
	}
}

// account adds one sent span to the read's stats and the node's metrics:
// every hit/miss and byte-source decision of the read path is here.
func (n *Node) account(st *transport.ReadStats, o pageOrigin, sp pageSpan) {
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
	case originPeer:
		st.BytesPeer += bytes
	default:
		st.BytesUnderstore += bytes
	}
	if !sp.count {
		return
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
