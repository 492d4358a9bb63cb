package app

import (
	"bytes"
	"net/http"
	"net/http/httptest"
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
