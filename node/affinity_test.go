package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
)

// TestAffinityDefaultsAgreeAcrossSurfaces sends the zero request (no n, no
// max_load) over gRPC and HTTP: both answer with CONTRACT.md's defaults
// (3 preferred nodes, max load 1.25), and the same nodes.
func TestAffinityDefaultsAgreeAcrossSurfaces(t *testing.T) {
	c := startCluster(t, 4, localStore(t), node.Config{}) // more members than the default n
	peers, err := transport.NewClient(transport.ClientConfig{RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer peers.Close()
	cc, err := peers.Control(c.Nodes[0].GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := "http://" + c.Nodes[0].HTTPAddr()

	var paths []string
	for i := range 40 {
		paths = append(paths, fmt.Sprintf("lake/t/part-%03d.parquet", i))
	}
	aff, err := cc.Affinity(ctx, &transport.AffinityRequest{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		var grpcIDs []string
		for _, m := range aff.Results[i].Nodes {
			grpcIDs = append(grpcIDs, m.ID)
		}
		var body struct {
			Nodes []node.MemberJSON `json:"nodes"`
		}
		httpGet(t, base+"/v1/affinity?path="+p, &body)
		var httpIDs []string
		for _, m := range body.Nodes {
			httpIDs = append(httpIDs, m.ID)
		}
		if len(grpcIDs) != node.DefaultAffinityNodes || !slices.Equal(grpcIDs, httpIDs) {
			t.Fatalf("%s: gRPC prefers %v, HTTP %v; want the same %d nodes", p, grpcIDs, httpIDs, node.DefaultAffinityNodes)
		}
	}

	var splits []string
	for _, p := range paths {
		splits = append(splits, fmt.Sprintf(`{"path":%q,"offset":0,"length":1000}`, p))
	}
	req := &transport.AssignRequest{}
	for _, p := range paths {
		req.Splits = append(req.Splits, transport.Split{Path: p, Length: 1000})
	}
	grpcRes, err := cc.Assign(ctx, req)
	if err != nil {
		t.Fatalf("assign with the zero max load: %v", err)
	}
	type assignBody struct {
		Assignments []struct {
			Split int    `json:"split"`
			Node  string `json:"node"`
		} `json:"assignments"`
		Load map[string]int `json:"load"`
	}
	var zero, explicit assignBody
	httpPost(t, base+"/v1/affinity/assign", `{"splits":[`+strings.Join(splits, ",")+`]}`, &zero)
	httpPost(t, base+"/v1/affinity/assign", fmt.Sprintf(`{"splits":[%s],"max_load":%v}`, strings.Join(splits, ","), node.DefaultMaxLoad), &explicit)
	bound := int(math.Ceil(node.DefaultMaxLoad * float64(len(paths)) / 4))
	for i, a := range grpcRes.Assignments {
		if a.Node != zero.Assignments[i].Node || a.Node != explicit.Assignments[i].Node {
			t.Fatalf("split %d: gRPC places it on %s, HTTP on %s (max_load %v: %s)", i, a.Node,
				zero.Assignments[i].Node, node.DefaultMaxLoad, explicit.Assignments[i].Node)
		}
	}
	for id, load := range grpcRes.Load {
		if load > bound || zero.Load[id] != load {
			t.Errorf("%s: load %d over gRPC, %d over HTTP; the bound is %d", id, load, zero.Load[id], bound)
		}
	}

	// The bounds are shared too.
	tooMany := node.MaxAffinityNodes + 1
	if _, err := cc.Affinity(ctx, &transport.AffinityRequest{Paths: paths[:1], N: tooMany}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("gRPC affinity with n %d: %v, want InvalidArgument", tooMany, err)
	}
	resp, err := http.Get(fmt.Sprintf("%s/v1/affinity?path=%s&n=%d", base, paths[0], tooMany))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HTTP affinity with n %d: %s, want 400", tooMany, resp.Status)
	}
}

func httpGet(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	decodeOK(t, url, resp, out)
}

func httpPost(t *testing.T, url, body string, out any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	decodeOK(t, url, resp, out)
}

func decodeOK(t *testing.T, url string, resp *http.Response, out any) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
