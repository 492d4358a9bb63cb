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
//     interval is re-checked with one request to the under-store
//     (single-flight per path): a Stat, or for a cold read the ranged read
//     of its first pages, which names their version too (ReadFirst); a new
//     content fingerprint starts a new version in the store.
//  3. Cached pages are sent straight from their page files (sendfile); the
//     reader verifies each chunk's CRC32C. Missing pages are fetched from the
//     under-store in coalesced ranges, once per page however many readers
//     want it (package node/internal/pagefetch), sent from memory and
//     written to the store. A read that joins a fetch another read started
//     counts the page as a hit: it cost that read no under-store request.
//
// Where things are: start.go builds a node in named steps and node.go
// stops it; read.go is the read path as steps, send.go sends each page,
// account.go holds every hit/miss and byte-source decision; forward.go
// relays to the owner and reads from the previous owner; meta.go keeps file
// metadata fresh; control.go, load.go and http.go serve the control RPCs
// and HTTP endpoints, affinity.go their shared placement defaults;
// errors.go maps errors to status codes; understore.go declares what the
// node needs of the under-store.
//
// The node owns no global state; several nodes run in one process (tests,
// `ringcache dev`).
package node
