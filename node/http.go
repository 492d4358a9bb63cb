package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringcache/ringcache/affinity"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/transport"
)

// maxAssignBody bounds POST /v1/affinity/assign (about a million splits).
const maxAssignBody = 128 << 20

// MemberJSON is one member in the HTTP API (CONTRACT.md).
type MemberJSON struct {
	ID       string `json:"id"`
	GRPCAddr string `json:"grpc_addr"`
	HTTPAddr string `json:"http_addr"`
	S3Addr   string `json:"s3_addr"`
	Zone     string `json:"zone"`
	State    string `json:"state"`
}

func memberJSON(m membership.Member) MemberJSON {
	return MemberJSON{ID: m.ID, GRPCAddr: m.Meta.GRPCAddr, HTTPAddr: m.Meta.HTTPAddr, S3Addr: m.Meta.S3Addr, Zone: m.Meta.Zone, State: string(m.State)}
}

func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !n.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", n.metricsHandler())
	mux.HandleFunc("GET /{$}", serveStatusPage)
	mux.HandleFunc("GET /v1/status", n.httpStatus)
	mux.HandleFunc("GET /v1/members", n.httpMembers)
	mux.HandleFunc("GET /v1/affinity", n.httpAffinity)
	mux.HandleFunc("POST /v1/affinity/assign", n.httpAssign)
	// With TLS, profiles need a node or admin client certificate: they
	// reveal memory and cost CPU. Every /v1/ endpoint only reads.
	admin := n.authPolicy().RequireAdminHTTP
	mux.Handle("/debug/pprof/", admin(http.HandlerFunc(pprof.Index)))
	mux.Handle("/debug/pprof/cmdline", admin(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("/debug/pprof/profile", admin(http.HandlerFunc(pprof.Profile)))
	mux.Handle("/debug/pprof/symbol", admin(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("/debug/pprof/trace", admin(http.HandlerFunc(pprof.Trace)))
	return mux
}

func (n *Node) metricsHandler() http.Handler {
	return promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{Registry: n.metrics.reg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func httpError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func (n *Node) httpMembers(w http.ResponseWriter, r *http.Request) {
	out := struct {
		RingVersion string       `json:"ring_version"`
		Members     []MemberJSON `json:"members"`
	}{RingVersion: n.ring().VersionString(), Members: []MemberJSON{}}
	for _, m := range n.members.Members() {
		out.Members = append(out.Members, memberJSON(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) httpAffinity(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	count := 0 // the default
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			httpError(w, http.StatusBadRequest, fmt.Errorf("n: want an integer in [1, %d], got %q", MaxAffinityNodes, s))
			return
		}
		count = v
	}
	members, err := n.preferred(n.ring(), p, count)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	nodes := []MemberJSON{}
	for _, m := range members {
		nodes = append(nodes, memberJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"path": p, "nodes": nodes})
}

// AssignRequest is the body of POST /v1/affinity/assign.
type AssignRequest struct {
	Splits []struct {
		Path   string `json:"path"`
		Offset int64  `json:"offset"`
		Length int64  `json:"length"`
	} `json:"splits"`
	MaxLoad float64 `json:"max_load"`
}

func (n *Node) httpAssign(w http.ResponseWriter, r *http.Request) {
	var req AssignRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAssignBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body over the limit of %d bytes", maxAssignBody))
			return
		}
		httpError(w, http.StatusBadRequest, fmt.Errorf("bad JSON: %w", err))
		return
	}
	if len(req.Splits) > transport.MaxAssignSplits {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%d splits over the limit of %d", len(req.Splits), transport.MaxAssignSplits))
		return
	}
	if dec.More() {
		httpError(w, http.StatusBadRequest, errors.New("bad JSON: trailing data after the request object"))
		return
	}
	splits := make([]affinity.Split, len(req.Splits))
	for i, s := range req.Splits {
		splits[i] = affinity.Split{Path: s.Path, Offset: s.Offset, Length: s.Length}
	}
	res, err := assign(n.ring(), splits, req.MaxLoad)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	type assignment struct {
		Split         int    `json:"split"`
		Node          string `json:"node"`
		PreferredRank int    `json:"preferred_rank"`
	}
	out := struct {
		Assignments []assignment   `json:"assignments"`
		Load        map[string]int `json:"load"`
	}{Assignments: make([]assignment, len(res.Assignments)), Load: res.Load}
	for i, a := range res.Assignments {
		out.Assignments[i] = assignment{Split: a.Split, Node: a.Node, PreferredRank: a.PreferredRank}
	}
	if out.Load == nil {
		out.Load = map[string]int{}
	}
	writeJSON(w, http.StatusOK, out)
}
