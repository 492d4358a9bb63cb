//go:build race

package storage

// raceEnabled trims the slow crash rounds under the race detector.
const raceEnabled = true
