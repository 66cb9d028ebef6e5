# Thin wrappers over the commands CI runs. Override any variable: `make test PYTEST_ARGS="-k produce"`.
PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
KAFKA_DIR   ?= $(HOME)/.cache/kafkagate/broker-9092
KAFKA_PORT  ?= 9092
PYTEST_ARGS ?=
SOURCES     := gateway processors schemas tests scripts bench

export KAFKAGATE_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)

.PHONY: install run serve worker test unit lint typecheck openapi fuzz bench kafka-install kafka-up kafka-down kafka-status clean

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

# The committed contract (schemas/openapi.json); tests/contract fails until it is regenerated after an API change.
openapi: install
	$(PY) -m scripts.openapi

# schemathesis (`st run`, root token) against a live `kafkagate serve` and `kafkagate worker` on a throwaway broker,
# for FUZZ_SECONDS (about 4 minutes in all with start-up): prints its phases, failures, warnings and summary, then
# one line per warning kind (`warnings: none` when there is none). `make test` runs a short seeded run of its own.
FUZZ_SECONDS ?= 180
fuzz: install
	$(PY) -m scripts.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build dist
