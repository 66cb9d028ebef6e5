# Thin wrappers over the commands CI runs. Override any variable: `make test PYTEST_ARGS="-k produce"`.
PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
KAFKA_DIR   ?= $(HOME)/.cache/kafkagate/broker-9092
KAFKA_PORT  ?= 9092
# `make kafka-cluster-up`: three brokers and a dedicated KRaft controller, for trying replication locally.
KAFKA_CLUSTER_DIR   ?= $(HOME)/.cache/kafkagate/cluster
KAFKA_CLUSTER_PORTS ?= 9192 9193 9194
KAFKA_CLUSTER_CONTROLLER_PORT ?= 9195
PYTEST_ARGS ?=
SOURCES     := gateway processors schemas kafkagate tests scripts bench

export KAFKAGATE_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)

.PHONY: install run serve worker test unit chaos fuzz lint typecheck openapi bench kafka-install kafka-up \
	kafka-down kafka-status kafka-cluster-up kafka-cluster-down clean browser screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

kafka-install: install
	$(PY) scripts/kafka.py install

kafka-up: install
	$(PY) scripts/kafka.py up --dir $(KAFKA_DIR) --port $(KAFKA_PORT)

kafka-down:
	$(PYTHON) scripts/kafka.py down --dir $(KAFKA_DIR)

kafka-status:
	@$(PYTHON) scripts/kafka.py status --dir $(KAFKA_DIR) || true

# Prints the bootstrap list (127.0.0.1:9192,127.0.0.1:9193,127.0.0.1:9194); point KAFKAGATE_BOOTSTRAP_SERVERS at it.
kafka-cluster-up: install
	$(PY) scripts/kafka.py up --dir $(KAFKA_CLUSTER_DIR) $(foreach port,$(KAFKA_CLUSTER_PORTS),--port $(port)) \
		--controller-port $(KAFKA_CLUSTER_CONTROLLER_PORT)

kafka-cluster-down:
	$(PYTHON) scripts/kafka.py down --dir $(KAFKA_CLUSTER_DIR)

serve: install
	$(VENV)/bin/kafkagate serve

worker: install
	$(VENV)/bin/kafkagate worker

# The gateway in the foreground and the processor supervisor beside it; Ctrl-C stops both (Kafka keeps running).
# Open by default, for trying it out on your machine: `make run KAFKAGATE_AUTH=required KAFKAGATE_ADMIN_TOKEN=...`.
run: export KAFKAGATE_AUTH ?= off
run: install kafka-up
	@$(VENV)/bin/kafkagate worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/kafkagate serve

lint: install
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

# The test session starts its own broker on free ports (see tests/conftest.py), so it never touches `make run`'s.
test: install lint typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The fault tests alone (they also run in `make test`), then their figures as a table: the README's
# "Guarantees" numbers come from here. Each test also leaves tests/chaos/results/<test>.json.
chaos: install
	$(VENV)/bin/pytest -m chaos -s $(PYTEST_ARGS)
	$(PY) -m tests.chaos.figures

# The committed contract (schemas/openapi.json); tests/contract fails until it is regenerated after an API change.
openapi: install
	$(PY) -m scripts.openapi

# Debian's chromium and chromedriver, for tests/browser (which skip without them unless KAFKAGATE_REQUIRE_BROWSER=1).
# Idempotent: installs only what is missing; needs root (or sudo).
BROWSER_PACKAGES ?= chromium chromium-driver fonts-liberation
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "browser: chromium and chromedriver already installed, nothing to do ($$(/usr/bin/chromedriver --version))"; \
	else \
		echo "browser: installing $(BROWSER_PACKAGES) with apt-get"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES); \
	fi

# The PNGs of docs/screenshots, taken by the browser tests while they walk through each page.
screenshots: install browser
	KAFKAGATE_REQUIRE_BROWSER=1 KAFKAGATE_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest tests/browser $(PYTEST_ARGS)

# schemathesis (`st run`, root token) against a live `kafkagate serve` and `kafkagate worker` on a throwaway broker,
# for FUZZ_SECONDS (about 4 minutes in all with start-up): prints its phases, failures, warnings and summary, then
# one line per warning kind (`warnings: none` when there is none). `make test` runs a short seeded run of its own.
FUZZ_SECONDS ?= 180
fuzz: install
	$(PY) -m scripts.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

# Starts its own throwaway broker and gateways; `make bench BENCH_ARGS=--quick` for a short smoke run.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	$(PY) scripts/kafka_tools.py install >/dev/null
	$(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.lake_sink
	$(PY) -m bench.processor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build dist
