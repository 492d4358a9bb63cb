package membership

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// logBridge turns memberlist's log.Logger lines ("[WARN] memberlist: ...")
// into slog records at the matching level, so one handler gets both.
type logBridge struct {
	log *slog.Logger
	// closed is set once Shutdown began: memberlist's listeners then fail
	// with "use of closed network connection", which it logs as an error;
	// that is the shutdown itself, logged at debug.
	closed *atomic.Bool
}

func (b *logBridge) Write(p []byte) (int, error) {
	line := bytes.TrimRight(p, "\n")
	level := slog.LevelInfo
	for _, l := range []struct {
		tag   string
		level slog.Level
	}{{"[DEBUG] ", slog.LevelDebug}, {"[INFO] ", slog.LevelInfo}, {"[WARN] ", slog.LevelWarn}, {"[ERR] ", slog.LevelError}, {"[ERROR] ", slog.LevelError}} {
		if bytes.HasPrefix(line, []byte(l.tag)) {
			level, line = l.level, line[len(l.tag):]
			break
		}
	}
	if level > slog.LevelDebug && b.closed != nil && b.closed.Load() && bytes.Contains(line, []byte("use of closed network connection")) {
		level = slog.LevelDebug
	}
	if b.log.Enabled(context.Background(), level) {
		b.log.Log(context.Background(), level, string(line), "source", "memberlist")
	}
	return len(p), nil
}

// shouldLog rate-limits a repeated warning to once per 10s per key:
// memberlist hands us the same alive message of a refused or conflicting
// peer again and again.
func (m *Membership) shouldLog(key string) bool {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.lastLog[key]; ok && now.Sub(last) < 10*time.Second {
		return false
	}
	if len(m.lastLog) > 1024 { // bounded; at worst a line is logged again
		clear(m.lastLog)
	}
	m.lastLog[key] = now
	return true
}
