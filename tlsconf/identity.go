package tlsconf

import (
	"crypto/x509"
	"slices"
)

// Certificate markers. `ringcache certs` writes them; RoleOf reads them.
const (
	// NodeOU is the organizational unit of node certificates.
	NodeOU = "ringcache-node"
	// AdminOU is the organizational unit of client certificates made with
	// --admin.
	AdminOU = "ringcache-admin"
	// NodeURI is the URI SAN of node certificates.
	NodeURI = "ringcache://node"
)

// Role is what a verified certificate may do.
type Role int

// Roles, from least to most allowed.
const (
	// RoleNone: no verified certificate.
	RoleNone Role = iota
	// RoleClient may read and ask (reads, stat, members, affinity).
	RoleClient
	// RoleAdmin may also change state (invalidate, load, pin, keyring).
	RoleAdmin
	// RoleNode is another node of the cluster; it may do what an admin may.
	RoleNode
)

func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleAdmin:
		return "admin"
	case RoleNode:
		return "node"
	}
	return "none"
}

// CanChange says the role may change state.
func (r Role) CanChange() bool { return r >= RoleAdmin }

// RoleOf classifies a certificate that was verified against the CA (nil:
// RoleNone). A node certificate carries NodeOU or the NodeURI SAN; an admin
// certificate carries AdminOU, or its common name is in adminNames.
func RoleOf(cert *x509.Certificate, adminNames []string) Role {
	if cert == nil {
		return RoleNone
	}
	for _, u := range cert.URIs {
		if u.String() == NodeURI {
			return RoleNode
		}
	}
	ous := cert.Subject.OrganizationalUnit
	switch {
	case slices.Contains(ous, NodeOU):
		return RoleNode
	case slices.Contains(ous, AdminOU), cert.Subject.CommonName != "" && slices.Contains(adminNames, cert.Subject.CommonName):
		return RoleAdmin
	}
	return RoleClient
}
