# ringcache build and test entry points. `make test` is what CI runs.
GO ?= go
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
# Packages whose code runs goroutines concurrently: tested again under -race.
RACE_PKGS ?= ./...

.PHONY: build test unit race lint fmt

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ringcache ./cmd/ringcache

test: lint unit race

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/fb/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if [ -x $(GOBIN_DIR)/staticcheck ]; then $(GOBIN_DIR)/staticcheck ./...; else echo "staticcheck not installed; skipped (CI installs it)"; fi

unit:
	$(GO) test -count=1 -timeout 15m ./...

race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
