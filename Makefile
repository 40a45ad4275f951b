# LabTrack's two commands (see README):
#   make demo   create the environment, migrate, seed the demo lab, start web + worker
#   make test   run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo test install bench clean-demo fuzz

# DEBUG is off unless set; the demo (and the benchmarks, which seed a throw-away lab) run
# on a workstation with the embedded demo key, so they turn it on explicitly.
demo bench: export DEBUG ?= 1

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PORT=$(PORT) deploy/run-demo.sh

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Readers on damaged input, longer than the bounded run in `make test`.
fuzz: install
	LABTRACK_FUZZ_EXAMPLES=$${LABTRACK_FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest -q tests/analysis/fuzz

bench: install
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m bench $(BENCH)

clean-demo:
	rm -rf var/labtrack.sqlite3* var/celery-broker.sqlite3* var/media var/celerybeat-schedule*
