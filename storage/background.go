package storage

import "time"

// This file starts and runs the store's background work: the lazy deleter
// (deleter.go) and the effective-capacity check (capacity.go).

// startBackground starts the goroutines that Close stops.
func (s *Store) startBackground() {
	s.wg.Add(1)
	go s.deleter()
	if s.cfg.CapacityCheckInterval > 0 {
		s.wg.Add(1)
		go s.watchCapacity()
	}
}

// watchCapacity re-checks the dirs' effective capacity every
// CapacityCheckInterval.
func (s *Store) watchCapacity() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.CapacityCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.recheckCapacity()
		}
	}
}
