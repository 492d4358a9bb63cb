package membership

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
)

// levelRecorder is a slog.Handler that keeps the level of each record.
type levelRecorder struct{ levels *[]slog.Level }

func (h levelRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h levelRecorder) Handle(_ context.Context, r slog.Record) error {
	*h.levels = append(*h.levels, r.Level)
	return nil
}

func (h levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h levelRecorder) WithGroup(string) slog.Handler { return h }

// TestLogBridgeShutdownNoise: memberlist's "use of closed network
// connection" error is an error while running, debug once Shutdown began.
func TestLogBridgeShutdownNoise(t *testing.T) {
	var levels []slog.Level
	var closed atomic.Bool
	b := &logBridge{log: slog.New(levelRecorder{&levels}), closed: &closed}
	line := "[ERR] memberlist: Error reading UDP packet: read udp 127.0.0.1:7946: use of closed network connection\n"
	b.Write([]byte(line))
	closed.Store(true)
	b.Write([]byte(line))
	b.Write([]byte("[ERR] memberlist: something else\n"))
	b.Write([]byte("[WARN] memberlist: a warning\n"))
	want := []slog.Level{slog.LevelError, slog.LevelDebug, slog.LevelError, slog.LevelWarn}
	if !slices.Equal(levels, want) {
		t.Fatalf("levels %v, want %v", levels, want)
	}
}
