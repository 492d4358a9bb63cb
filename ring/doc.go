// Package ring maps keys (file paths) to the members of the cluster with
// consistent hashing with bounded loads, so that every node and client
// computes the same owner from the same member set without a master.
//
// The algorithm is github.com/buraksezer/consistent v1.0.0's, with an xxhash
// hasher: members get ReplicationFactor virtual nodes on a 64-bit circle;
// keys hash onto Partitions partitions (xxhash64(key) mod Partitions); each
// partition, in ID order, goes to the first member clockwise from the
// partition's hash that owns fewer than ceil(Load * Partitions / members)
// partitions. New reproduces that placement exactly (the tests compare it
// with consistent) but builds in O(members*ReplicationFactor*log + Partitions)
// instead of consistent's quadratic New, and precomputes per partition the
// owner and its first fallbacks, so lookups are a hash, a modulo and a slice:
// no lock, no allocation in AppendOwners/Owner.
//
// Fallbacks are the distinct members met walking the circle clockwise from
// the partition's hash (consistent's GetClosestN instead gives every
// partition of an owner the same fallbacks, which piles a dead owner's whole
// load on one node). The first fallback is usually the member that becomes
// owner when the owner leaves.
//
// A Ring is immutable; Holder swaps the current one atomically. The ring
// only ever contains active members: the membership layer builds it from
// members whose state is active, so dead, joining and leaving nodes are never
// an owner or a first preference.
//
// This package is pure: no I/O, no goroutines, no clocks.
//
// # Choosing the defaults
//
// Partitions 16381 and 100 virtual nodes per member keep key movement on a
// join or leave close to the ideal 1/members (measurement table to follow).
package ring
