package node

import (
	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/transport"
)

// adminMethods are the control RPCs that change state: with TLS they need
// a node or admin certificate (CONTRACT.md "Security"). Reads, Stat,
// Members, WatchRing, Affinity and Assign need any certificate of the CA,
// which the mTLS handshake already ensured.
var adminMethods = map[string]bool{
	transport.MethodInvalidate: true,
	transport.MethodLoad:       true,
	transport.MethodPin:        true,
	// The keyring's list only reads; the others change every member's
	// gossip keys.
	transport.MethodKeyringInstall: true,
	transport.MethodKeyringUse:     true,
	transport.MethodKeyringRemove:  true,
	// Writes change the data lake itself. ListParts and ListUploads only
	// read, but they name uploads in progress that a reader has no use for.
	transport.MethodPut:            true,
	transport.MethodUploadPart:     true,
	transport.MethodDelete:         true,
	transport.MethodCopy:           true,
	transport.MethodCreateUpload:   true,
	transport.MethodCompleteUpload: true,
	transport.MethodAbortUpload:    true,
	transport.MethodListParts:      true,
	transport.MethodListUploads:    true,
}

// authPolicy is the node's authorization policy.
func (n *Node) authPolicy() tlsconf.Policy {
	return tlsconf.Policy{AdminNames: n.cfg.AdminNames, AdminMethods: adminMethods}
}
