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
