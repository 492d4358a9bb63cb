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
// rebuild).
//
// Leave gossips StateLeaving, tells every member directly and then sends
// memberlist's leave, all within one timeout; a leave that nobody is left to
// hear (the whole cluster stopping at once) is complete, not a timeout.
//
// Network I/O: memberlist's UDP and TCP sockets on the gossip address (which
// also carry the leave notice), and, from the reconnect loop, a short TCP
// dial to a dead member's or a Join address before memberlist joins it, so
// that an address that does not answer is skipped quickly (see
// Config.ReconnectInterval). No disk I/O.
package membership
