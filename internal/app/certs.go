package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/tlsconf/certgen"
)

// certsCmd is `ringcache certs`: a development CA and the certificates of
// nodes and clients (CONTRACT.md "Security"). Files are never overwritten.
type certsCmd struct {
	Init   certsInitCmd   `cmd:"" help:"Write a development CA: DIR/ca.crt, DIR/ca.key."`
	Node   certsNodeCmd   `cmd:"" help:"Write DIR/NAME.crt and DIR/NAME.key for a node (server and client use)."`
	Client certsClientCmd `cmd:"" help:"Write DIR/NAME.crt and DIR/NAME.key for a client (--admin: may change state)."`
}

type certsDir struct {
	Dir string `name:"dir" required:"" placeholder:"DIR" help:"Directory of the CA and certificates."`
}

type certsInitCmd struct {
	certsDir `embed:""`
}

// Run writes the CA.
func (c *certsInitCmd) Run(env Env) error {
	if err := certError(certgen.InitCA(c.Dir)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s and %s\n", filepath.Join(c.Dir, certgen.CACert), filepath.Join(c.Dir, certgen.CAKey))
	return nil
}

type certsNodeCmd struct {
	certsDir `embed:""`
	Name     string   `name:"name" required:"" help:"Node name: the common name and the file name."`
	Hosts    []string `name:"hosts" required:"" placeholder:"H1,H2" help:"IP addresses and DNS names the node is dialled by."`
}

// Run writes the node certificate.
func (c *certsNodeCmd) Run(env Env) error {
	hosts := c.Hosts[:0:0]
	for _, h := range c.Hosts {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return cli.Usagef("ringcache certs node", "--hosts: at least one IP address or DNS name")
	}
	return issue(env, "ringcache certs node", c.Dir, certgen.Request{Kind: certgen.Node, Name: c.Name, Hosts: hosts})
}

type certsClientCmd struct {
	certsDir `embed:""`
	Name     string `name:"name" required:"" help:"Client name: the common name and the file name."`
	Admin    bool   `name:"admin" help:"May change state (invalidate, load, pin, keyring)."`
}

// Run writes the client certificate.
func (c *certsClientCmd) Run(env Env) error {
	kind := certgen.Client
	if c.Admin {
		kind = certgen.Admin
	}
	return issue(env, "ringcache certs client", c.Dir, certgen.Request{Kind: kind, Name: c.Name})
}

func issue(env Env, cmd, dir string, req certgen.Request) error {
	crt, key, err := certgen.Issue(dir, req)
	if errors.Is(err, certgen.ErrBadName) {
		return cli.Usagef(cmd, "--name %q: a plain file name is needed", req.Name)
	}
	if err := certError(err); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s and %s\n", crt, key)
	return nil
}

// certError keeps certgen's messages but drops its package prefix, which
// means nothing to a user.
func certError(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.TrimPrefix(err.Error(), "certgen: "))
}
