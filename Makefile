# padctl: set-up, demo, checks. Everything needed on a fresh machine is installed from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages the tests need (installed only when run as root).
DEBIAN_TEST_PACKAGES ?= chromium iproute2 iptables nftables
SOURCES := padctl simulators hil tests

.PHONY: venv demo test lint check-format debian-packages bench clean sim

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

# pytest exits 5 when it collected no test: that must fail, never pass silently.
# The whole six-hour counts run after the rest, on their own: at rate 200 a second of wall
# time is 200 s of count time, so they must not share the two cores with the browser tests.
test: venv debian-packages lint
	$(BIN)/pytest -q -n 2 --dist worksteal -m "not whole_count"; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	$(BIN)/pytest -q -n 2 --dist worksteal -m whole_count; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no whole counts" >&2; exit 1; fi; exit $$status

bench: venv
	$(BIN)/python tests/bench/scan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
