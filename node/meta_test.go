package node

import (
	"testing"
	"time"
)

// TestStatFreshFor: a shared Stat answers a reader only if it began after
// the reader arrived, or within the sync interval before (never when the
// reader forces a check). A read that starts after an overwrite must not be
// answered by a Stat that began before it.
func TestStatFreshFor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		checked, arrived time.Duration // after t0
		force            bool
		sync             time.Duration
		want             bool
	}{
		{checked: 5, arrived: 3, sync: time.Nanosecond, want: true},                   // began after the reader arrived
		{checked: 3, arrived: 3, force: true, sync: time.Nanosecond, want: true},      // began as it arrived
		{checked: 3, arrived: 5, sync: time.Nanosecond, want: false},                  // began before, sync ~0
		{checked: 0, arrived: time.Second, sync: 10 * time.Second, want: true},        // began before, within the interval
		{checked: 0, arrived: 11 * time.Second, sync: 10 * time.Second, want: false},  // began before, past the interval
		{checked: 0, arrived: time.Second, force: true, sync: time.Hour, want: false}, // forced: only a Stat begun since
		{checked: 2 * time.Second, arrived: time.Second, force: true, sync: 0, want: true},
	} {
		got := statFreshFor(t0.Add(tc.checked), t0.Add(tc.arrived), tc.force, tc.sync)
		if got != tc.want {
			t.Errorf("checked %v, arrived %v, force %v, sync %v: %v, want %v", tc.checked, tc.arrived, tc.force, tc.sync, got, tc.want)
		}
	}
}
