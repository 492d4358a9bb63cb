package app

import (
	"bytes"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"healthcheck", "--url", srv.URL + "/readyz"}, 0, ""},
		{[]string{"healthcheck", "--url", srv.URL + "/other"}, 1, "503"},
		{[]string{"healthcheck", "--url", "http://127.0.0.1:1/readyz"}, 1, "healthcheck"},
		{[]string{"healthcheck", "extra"}, 2, ""},
	} {
		var out, errb bytes.Buffer
		code := Main(Env{Args: tc.args, Stdout: &out, Stderr: &errb})
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errb.String(), tc.msg)
		}
	}
}

// An https:// URL is verified against --tls-ca; without it the node's
// self-made CA is unknown and the check fails.
func TestHealthcheckHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"healthcheck", "--url", srv.URL + "/readyz", "--tls-ca", ca}, 0},
		{[]string{"healthcheck", "--url", srv.URL + "/readyz"}, 1},
	} {
		var out, errb bytes.Buffer
		if code := Main(Env{Args: tc.args, Stdout: &out, Stderr: &errb}); code != tc.code {
			t.Errorf("%v: exit %d (want %d), stderr %q", tc.args, code, tc.code, errb.String())
		}
	}
}
