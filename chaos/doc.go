// Package chaos is the fault-injection suite of ringcache. It runs only with
// the build tag chaos (go test -tags chaos ./chaos/..., or make chaos, which
// builds the images first): it brings up the docker-compose.yml cluster
// (three nodes, versitygw behind toxiproxy), seeds the under-store with files
// of known content, keeps a verified read load running through the Go SDK,
// and injects one fault at a time: SIGKILL and restart, docker pause, a
// network partition, a rolling restart, under-store latency/timeouts/resets,
// page files corrupted on disk, a fourth node joining, and a SIGKILL watched
// by the compose Prometheus (RingcacheNodeDown must fire and clear); last it
// evaluates the PromQL of deploy/grafana and deploy/prometheus against that
// Prometheus. It fails on any
// wrong byte, on a read failure where failover must succeed, and on a node
// that restarts cold. It needs Linux (the host dials the containers' bridge
// addresses), docker, and docker-compose or the compose plugin; it tears the
// cluster down (down -v) at the end, also on failure.
//
// The package holds no code outside its tests.
package chaos
