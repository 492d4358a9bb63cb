package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/golang/groupcache"
)

// groupName is the one groupcache group the benchmark uses.
const groupName = "objs"

// runGroupcacheNode is an application server the way groupcache is meant to
// be used: the library inside it, peers over groupcache's HTTP pool, and the
// application's own endpoint (GET /obj/<key>, raw bytes) for its clients.
// A miss runs the Getter once per key cluster-wide (on the key's owner,
// single-flight); hot keys are also kept in every node's hot cache.
func runGroupcacheNode(ctx context.Context, f nodeFlags) error {
	self := "http://" + f.listen
	pool := groupcache.NewHTTPPoolOpts(self, nil) // registers /_groupcache/ on http.DefaultServeMux
	pool.Set(f.peers...)
	g := groupcache.NewGroup(groupName, f.cacheBytes, groupcache.GetterFunc(
		func(ctx context.Context, key string, dest groupcache.Sink) error {
			b, err := f.src.fetch(ctx, key)
			if err != nil {
				return err
			}
			return dest.SetBytes(b)
		}))
	http.HandleFunc("GET /obj/", func(w http.ResponseWriter, r *http.Request) {
		var b []byte
		if err := g.Get(r.Context(), strings.TrimPrefix(r.URL.Path, "/obj/"), groupcache.AllocatingByteSliceSink(&b)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = w.Write(b)
	})
	l, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.DefaultServeMux}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// groupcacheReader reads objects from the nodes' application endpoint,
// client c spreading its reads over the nodes as a load balancer would.
type groupcacheReader struct {
	hc    *http.Client
	nodes []string
}

func newGroupcacheReader(nodes []string) *groupcacheReader {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &groupcacheReader{hc: &http.Client{Transport: t}, nodes: nodes}
}

func (g *groupcacheReader) read(ctx context.Context, client, op int, key string, buf []byte) ([]byte, error) {
	node := g.nodes[(client+op)%len(g.nodes)]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+node+"/obj/"+key, nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("groupcache %s: %s: %s", node, resp.Status, msg)
	}
	n, err := io.ReadFull(resp.Body, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

func (g *groupcacheReader) close() { g.hc.CloseIdleConnections() }
