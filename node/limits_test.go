package node_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
)

// spaces is an endless reader of JSON whitespace.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestAssignBodyLimits: POST /v1/affinity/assign takes a body of up to
// 128 MiB and up to transport.MaxAssignSplits splits; more is 413.
func TestAssignBodyLimits(t *testing.T) {
	c := startCluster(t, 1, localStore(t), node.Config{})
	url := "http://" + c.Nodes[0].HTTPAddr() + "/v1/affinity/assign"
	post := func(body io.Reader) int {
		t.Helper()
		resp, err := http.Post(url, "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	const maxBody = 128 << 20
	obj := `{"splits":[{"path":"lake/a","offset":0,"length":1}]}`
	padded := func(n int) io.Reader { // obj after leading whitespace, n bytes in all
		return io.MultiReader(io.LimitReader(spaces{}, int64(n-len(obj))), strings.NewReader(obj))
	}
	if got := post(padded(maxBody)); got != http.StatusOK {
		t.Errorf("body of %d bytes: %d, want 200", maxBody, got)
	}
	if got := post(padded(maxBody + 1)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("body of %d bytes: %d, want 413", maxBody+1, got)
	}
	splits := func(n int) io.Reader { // n splits with no path
		return strings.NewReader(`{"splits":[{}` + strings.Repeat(`,{}`, n-1) + `]}`)
	}
	if got := post(splits(transport.MaxAssignSplits)); got != http.StatusBadRequest {
		t.Errorf("%d splits without paths: %d, want 400 (past the count limit, refused for the paths)", transport.MaxAssignSplits, got)
	}
	if got := post(splits(transport.MaxAssignSplits + 1)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("%d splits: %d, want 413", transport.MaxAssignSplits+1, got)
	}
}
