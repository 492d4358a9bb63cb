# ringcache build and test entry points. `make test` is what CI runs.
GO ?= go
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
# Packages whose code runs goroutines concurrently: tested again under -race.
RACE_PKGS ?= ./...

.PHONY: build test unit race lint fmt cross check-deploy

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ringcache ./cmd/ringcache

test: lint check-prometheus unit race

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/fb/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy (go mod tidy -diff):"; $(GO) mod tidy -diff; exit 1; }
	$(GO) vet ./...
	@if [ -x $(GOBIN_DIR)/staticcheck ]; then $(GOBIN_DIR)/staticcheck ./...; else echo "staticcheck not installed; skipped (CI installs it)"; fi

# The Kubernetes manifests (deploy/kubernetes) checked against the binary:
# deploy/ is a module of its own, so the main module never depends on
# Kubernetes packages. Not part of `make test`: its first run compiles
# kustomize and k8s.io/api (a minute or two); later runs take ~10 s. -v
# shows the allow-listed gaps (issue 14) that TestPendingFlags reports.
check-deploy:
	@(cd deploy && $(GO) mod tidy -diff >/dev/null) || { echo "deploy/go.mod is not tidy (cd deploy && go mod tidy -diff):"; (cd deploy && $(GO) mod tidy -diff); exit 1; }
	cd deploy && $(GO) vet ./...
	@if [ -x $(GOBIN_DIR)/staticcheck ]; then cd deploy && $(GOBIN_DIR)/staticcheck ./...; else echo "staticcheck not installed; skipped (CI installs it)"; fi
	cd deploy && $(GO) test -count=1 -v ./...

# The Prometheus config, alert rules and their unit tests (deploy/prometheus),
# with Debian's promtool (.ci/run installs the prometheus package).
PROMTOOL ?= promtool
.PHONY: check-prometheus
check-prometheus:
	@if ! command -v $(PROMTOOL) >/dev/null; then \
		if [ -n "$$CI" ]; then echo "promtool not installed (apt-get install prometheus)"; exit 1; fi; \
		echo "promtool not installed; skipped (CI installs it: apt-get install prometheus)"; exit 0; fi; \
	cd deploy/prometheus && $(PROMTOOL) check config prometheus.yml && $(PROMTOOL) check rules rules.yml && $(PROMTOOL) test rules rules_test.yml

# Engineers on laptops build the SDK and `ringcache dev`: the tree must build
# off Linux (the Linux syscalls sit behind _linux.go files with portable
# fallbacks) and on arm64.
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=linux GOARCH=arm64 $(GO) build ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./client/...

unit:
	$(GO) test -count=1 -timeout 15m ./...

race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

# Container images for docker-compose.yml and the chaos suite. Every image is
# FROM scratch with static binaries built here (no registry to pull from):
# ringcache from this tree, versitygw, toxiproxy and prometheus from their
# pinned modules.
VERSITYGW_VERSION ?= v1.8.0
TOXIPROXY_VERSION ?= v2.5.0
# Prometheus 3.x's Go module version (v0.3XY.Z is release v3.XY.Z).
PROMETHEUS_VERSION ?= v0.316.0
# Prometheus's own build tags: every service discovery out but DNS (the
# compose scrape config uses static and DNS targets only). The cloud SDKs
# and client-go the others pull in were most of its compile time.
PROMETHEUS_TAGS ?= remove_all_sd,enable_dns_sd
DOCKER ?= docker
DOCKER_CTX := bin/docker
TOOLS_DIR := $(CURDIR)/bin/tools

.PHONY: images chaos bench-gateway bench-peers

# The S3 gateway against nginx proxy_cache + slice in front of the same
# versitygw (issue 12): needs nginx, wrk, the aws CLI and versitygw; about
# five minutes; prints one table (docs/BENCHMARKS.md explains it).
bench-gateway:
	bench/gateway/run.sh

# ringcache against golang/groupcache and olric, three node processes each,
# the same read-through workload (issue 16): about three minutes; prints one
# table (docs/BENCHMARKS.md, "Peers: groupcache and olric"). bench/peers is a
# module of its own, so the main module never depends on the peers.
# PEERS_FLAGS passes flags to `run` (e.g. -duration 30s -work /tmp/peers).
PEERS_FLAGS ?=
bench-peers:
	cd bench/peers && $(GO) run . run $(PEERS_FLAGS)

images:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(DOCKER_CTX)/ringcache/ringcache ./cmd/ringcache
	@[ -x $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw ] || \
		{ echo "building versitygw $(VERSITYGW_VERSION)"; CGO_ENABLED=0 GOBIN=$(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION) $(GO) install -trimpath github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }
	@[ -x $(TOOLS_DIR)/toxiproxy-$(TOXIPROXY_VERSION)/server ] || \
		{ echo "building toxiproxy $(TOXIPROXY_VERSION)"; CGO_ENABLED=0 GOBIN=$(TOOLS_DIR)/toxiproxy-$(TOXIPROXY_VERSION) $(GO) install -trimpath github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION); }
	@[ -x $(TOOLS_DIR)/prometheus-$(PROMETHEUS_VERSION)/prometheus ] || \
		{ echo "building prometheus $(PROMETHEUS_VERSION)"; CGO_ENABLED=0 GOBIN=$(TOOLS_DIR)/prometheus-$(PROMETHEUS_VERSION) $(GO) install -trimpath -tags $(PROMETHEUS_TAGS) github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION); }
	mkdir -p $(DOCKER_CTX)/ringcache/tmp $(DOCKER_CTX)/versitygw/tmp $(DOCKER_CTX)/toxiproxy/tmp $(DOCKER_CTX)/prometheus/tmp
	cp $(DOCKER_CTX)/ringcache/ringcache $(DOCKER_CTX)/versitygw/ringcache
	cp $(DOCKER_CTX)/ringcache/ringcache $(DOCKER_CTX)/toxiproxy/ringcache
	cp $(DOCKER_CTX)/ringcache/ringcache $(DOCKER_CTX)/prometheus/ringcache
	cp $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw $(DOCKER_CTX)/versitygw/versitygw
	cp $(TOOLS_DIR)/prometheus-$(PROMETHEUS_VERSION)/prometheus $(DOCKER_CTX)/prometheus/prometheus
	cp $(TOOLS_DIR)/toxiproxy-$(TOXIPROXY_VERSION)/server $(DOCKER_CTX)/toxiproxy/toxiproxy
	cp docker/toxiproxy.json $(DOCKER_CTX)/toxiproxy/toxiproxy.json
	$(DOCKER) build -q -t ringcache/ringcache:local -f docker/ringcache.Dockerfile $(DOCKER_CTX)/ringcache
	$(DOCKER) build -q -t ringcache/versitygw:$(VERSITYGW_VERSION) -f docker/versitygw.Dockerfile $(DOCKER_CTX)/versitygw
	$(DOCKER) build -q -t ringcache/toxiproxy:$(TOXIPROXY_VERSION) -f docker/toxiproxy.Dockerfile $(DOCKER_CTX)/toxiproxy
	$(DOCKER) build -q -t ringcache/prometheus:$(PROMETHEUS_VERSION) -f docker/prometheus.Dockerfile $(DOCKER_CTX)/prometheus

# The development CA and certificates of docker-compose.yml (mTLS on every
# node, mounted read-only at /certs): node1..node4 for the compose network's
# fixed addresses (and their service names, which Prometheus scrapes, and
# loopback, which the health checks dial), "chaos" (a client) and "admin"
# (an admin client: load, invalidate). `ringcache certs` never overwrites, so
# they are made once; a different RINGCACHE_NET makes them again. The keys
# are test keys made readable to all: a container may run as another uid.
RINGCACHE_NET ?= 172.29.77
COMPOSE_CERTS := bin/certs
.PHONY: compose-certs
compose-certs: build
	@if [ "$$(cat $(COMPOSE_CERTS)/net 2>/dev/null)" != "$(RINGCACHE_NET)" ]; then \
		set -e; rm -rf $(COMPOSE_CERTS); \
		bin/ringcache certs init --dir $(COMPOSE_CERTS); \
		for i in 1 2 3 4; do bin/ringcache certs node --dir $(COMPOSE_CERTS) --name node$$i --hosts $(RINGCACHE_NET).1$$i,node$$i,127.0.0.1,localhost; done; \
		bin/ringcache certs client --dir $(COMPOSE_CERTS) --name chaos; \
		bin/ringcache certs client --dir $(COMPOSE_CERTS) --name admin --admin; \
		chmod a+r $(COMPOSE_CERTS)/*.key; \
		echo $(RINGCACHE_NET) > $(COMPOSE_CERTS)/net; \
	fi

# The chaos suite: brings docker-compose.yml up, breaks it one fault at a
# time under a verified read load, tears it down (also on failure).
chaos: images compose-certs
	$(GO) vet -tags chaos ./chaos/...
	$(GO) test -tags chaos -count=1 -timeout 20m -v ./chaos/...
