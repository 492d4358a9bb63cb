package node

import (
	_ "embed"
	"net/http"
)

// statusPage is the status page: one HTML file with its CSS, JavaScript
// and SVG inline (no external assets, so it works offline and behind any
// proxy). It polls v1/status, relative to itself, every 2 seconds.
//
//go:embed status.html
var statusPage []byte

func serveStatusPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:")
	w.Write(statusPage)
}
