# The interface to the project: `make run`, `make test`, `make bench`, `make lint`.
CARGO ?= cargo
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))

.PHONY: all deps build run test lint unit e2e bench clean

all: build

deps:
	@hack/deps.sh

build: deps
	$(CARGO) build --workspace --bins

## run: the embedded super cluster on 127.0.0.1:6443 (state in .nestor/) with tenants blue and green; Ctrl-C stops all
run: build
	KUBECTL_VC=$(TARGET_DIR)/debug/kubectl-vc hack/run.sh

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## test: lint, then every unit, integration and e2e test against real etcd and kubectl
test: deps lint build
	$(CARGO) test --workspace --no-fail-fast

## bench: benchmarks against release builds (nestor-controllers as shipped: profile small); writes docs/benchmarks.md
bench: deps
	$(CARGO) build --release --workspace --bins
	$(CARGO) build --profile small -p nestor-controllers
	NESTOR_APISERVER_BIN=$(TARGET_DIR)/release/nestor-apiserver NESTOR_CONTROLLERS_BIN=$(TARGET_DIR)/small/nestor-controllers \
		$(TARGET_DIR)/release/nestor-bench --out docs/benchmarks.md

clean:
	$(CARGO) clean
	rm -rf .nestor
