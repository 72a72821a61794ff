# padctl: set-up, demo, checks. Everything needed on a fresh machine is installed from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages the tests need (installed only when run as root).
DEBIAN_TEST_PACKAGES ?= chromium iproute2 iptables nftables mosquitto protobuf-compiler
SOURCES := padctl simulators hil tests

.PHONY: venv demo test test-repeat lint check-format debian-packages bench clean sim

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The operator console on the simulated pad: prints the URL and this run's demo users.
demo: venv
	$(BIN)/padctl serve --sim --rate 10 --host 127.0.0.1 --port 8080

sim: venv
	$(BIN)/padctl sim

debian-packages:
	@if [ -n "$(DEBIAN_TEST_PACKAGES)" ] && [ "$$(id -u)" = 0 ]; then \
		missing=""; for p in $(DEBIAN_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi; \
	fi

lint: venv
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

# One pytest run on every core the tests can use: most tests wait on scaled clocks and
# sockets rather than compute (measured: 1,443 worker-seconds for 560 CPU-seconds), so four
# workers share the two cores. Three left a third of the CPU idle; five overload the cores
# (loop lag p99 70-90 ms, data over 1 s old: a count cut off on STALE data). The whole counts
# and the browser tests start first (tests/conftest.py). A scaled clock never outruns its
# wire: the rate governor slows a count when the loop lags, so the counts share the cores.
# pytest exits 5 when it collected no test: that must fail, never pass silently.
PYTEST_WORKERS ?= 4
PYTEST := $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist load --maxschedchunk 1 -p no:cacheprovider

test: venv debian-packages lint
	$(PYTEST) --durations=15; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

# `make test-repeat N=5`: the timing-sensitive tests (marker timing: scaled clocks against
# real sockets, whole counts, training runs, browsers) N times over, each time in a pytest
# session of its own (tests sharing a module's station must start from a fresh one), with a
# line per round; it fails if any round failed or collected no test.
N ?= 3
test-repeat: venv debian-packages
	@failed=0; for round in $$(seq $(N)); do \
		started=$$(date +%s); \
		$(PYTEST) -m timing; status=$$?; \
		echo "test-repeat round $$round of $(N): exit $$status in $$(( $$(date +%s) - started )) s"; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; \
		if [ $$status -ne 0 ]; then failed=$$((failed + 1)); fi; \
	done; \
	echo "test-repeat: $$failed of $(N) rounds failed"; [ $$failed -eq 0 ]

bench: venv
	$(BIN)/python tests/bench/scan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
