// Package node runs one ringcache node: it wires the page store (storage),
// the under-store, membership and the ring, the transport (gRPC control and
// the page byte stream) and the HTTP endpoints into the read path described
// in ARCHITECTURE.md.
//
// The read path, on the node that receives Read(path, off, len):
//
//  1. If the ring says another node owns the path and the request was not
//     already forwarded, forward it once to the owner; if the owner cannot be
//     reached, serve it here.
//  2. Make sure the file's metadata is fresh: metadata older than the sync
//     interval is re-checked with one Stat on the under-store (single-flight
//     per path); a new content fingerprint starts a new version in the store.
//  3. Cached pages are sent straight from their page files (sendfile); the
//     reader verifies each chunk's CRC32C. Missing pages are fetched from the
//     under-store in coalesced ranges, once per page however many readers
//     want it, sent from memory and written to the store.
//
// The node owns no global state; several nodes run in one process (tests,
// `ringcache dev`).
package node
