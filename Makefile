# The hotline's everyday commands. `make run` starts a working hotline on the embedded
# defaults (bbolt file in ./data, built-in texter simulator); `make test` runs every test.

GO          ?= go
BIN         ?= bin/hotline
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s

.PHONY: build run test test-browser test-short lint bench fuzz docker clean

## build: a static binary in bin/hotline (the same one the Dockerfile builds)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hotline

## run: start the hotline with no configuration (console and simulator on http://127.0.0.1:8080)
run:
	$(GO) run ./cmd/hotline serve $(if $(CONFIG),--config $(CONFIG))

## test: every test, with the race detector; then the store's users again on an encrypted store
test:
	$(GO) test -race -count=1 -timeout 15m ./...
	HOTLINE_TEST_ENCRYPT=1 $(GO) test -count=1 -timeout 5m ./store/... ./hotline/... ./export/... ./console/...

## test-browser: the console's browser tests alone (headless Chromium; see README)
test-browser:
	$(GO) test -count=1 -run Browser ./...

## test-short: the fast tests, without the race detector
test-short:
	$(GO) test -short -count=1 ./...

## lint: gofmt, go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## bench: the Go benchmarks, then two short load runs of an in-process hotline (see BENCHMARKS.md)
# The load runs use fsync like production: closed loop at concurrency 64 beside this
# machine's ceiling, then 500 req/s offered, failing when the p99 acknowledgement is over 25ms.
BENCHTIME ?= 1s
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count=1 -timeout 30m ./...
	$(GO) run ./cmd/hotline load --baseline --verify --duration 10s --concurrency 64
	$(GO) run ./cmd/hotline load --verify --duration 10s --concurrency 64 --rate 500 --max-p99 25ms

## load: the load tool against an in-process hotline, or LOAD_FLAGS='--url http://… --auth-token …'
LOAD_FLAGS ?= --baseline --verify --duration 10s --concurrency 64
.PHONY: load
load:
	$(GO) run ./cmd/hotline load $(LOAD_FLAGS)

## fuzz: run every fuzz target for FUZZTIME each (seed corpora run in `make test` too)
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## reliability: the tests of RELIABILITY.md, longer and with their figures: the crash test with
## CRASH_ROUNDS SIGKILL rounds per workload (make test runs 20), the Twilio outage, the full disk,
## hostile webhooks and intruders
CRASH_ROUNDS ?= 100
.PHONY: reliability
reliability:
	HOTLINE_CRASH_ROUNDS=$(CRASH_ROUNDS) $(GO) test -race -count=1 -timeout 30m -v \
	  -run '^(TestCrash_SIGKILLUnderLoad|TestTwilioOutage_.*|TestDiskFull_.*|TestHostileWebhooks_.*|TestIntruders_.*)$$' ./cmd/hotline

## docker: build the container image (needs a Docker engine)
docker:
	docker build --build-arg VERSION=$(VERSION) -t hotline:$(VERSION) .

clean:
	rm -rf bin
