# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_OUT ?= out/demo

.PHONY: demo test lint docs check clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hepatwin compare \
		examples/scenarios/hbv_decompensated_untreated.toml \
		examples/scenarios/hbv_decompensated_msc.toml \
		--out $(DEMO_OUT)
	$(VENV)/bin/hepatwin trial run examples/trials/zhongnan2024.toml --out $(DEMO_OUT)/trial
	@echo "Open $(DEMO_OUT)/report.html and $(DEMO_OUT)/trial/report.html in a browser."

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/hepatwin model lint

docs: $(STAMP)
	$(VENV)/bin/hepatwin model docs --out docs/model

check: $(STAMP)
	$(VENV)/bin/hepatwin model check

clean:
	rm -rf out .pytest_cache .ruff_cache
