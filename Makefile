# Expense Tracker: `make run` opens the app, `make test` runs every check. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := xvfb xauth chromium fonts-dejavu-core poppler-utils \
	libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 \
	libxcb-xinerama0 libxcb-shape0 libxcb-randr0 libegl1 libgl1 libnss3 libasound2 libxkbfile1 \
	libxcomposite1 libxdamage1 libxtst6 x11-utils xdotool imagemagick binutils ledger syncthing desktop-file-utils
# Commands the suite needs from Debian, one per package group above.
SYSTEM_COMMANDS := xvfb-run chromium pdftoppm xdotool import ledger syncthing desktop-file-validate

.PHONY: run test lint typecheck deps system-deps dist bench reliability clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[desktop,test,build]"
	touch $(STAMP)

deps: $(STAMP)

# Debian packages: installed with apt as root, otherwise the exact command is printed.
system-deps:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	for p in libxcb-cursor0 libxkbcommon-x11-0 libnss3 libegl1; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing. Run as root:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; exit 1; \
	  fi; \
	fi

run: deps
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display found: serving the app in browser mode instead of a window."; \
	  $(VENV)/bin/expense-tracker serve; \
	else $(MAKE) --no-print-directory system-deps && $(VENV)/bin/expense-tracker; fi

lint: deps
	$(VENV)/bin/ruff check tracker desktop benchmarks tests
	$(VENV)/bin/ruff format --check tracker desktop benchmarks tests

typecheck: deps
	$(VENV)/bin/mypy

test: deps system-deps lint typecheck
	QTWEBENGINE_DISABLE_SANDBOX=1 xvfb-run -a -s "-screen 0 1400x1000x24" $(PY) -m pytest $(PYTEST_ARGS)

bench: deps
	@command -v ledger >/dev/null && command -v hledger >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; \
	  then apt-get update -qq && apt-get install -y -qq ledger hledger || echo "could not install ledger and hledger: the peers figures are skipped"; \
	  else echo "ledger-cli or hledger missing (the peers figures are skipped): sudo apt-get update && sudo apt-get install -y ledger hledger"; fi; }
	@# measured as installed: with bytecode compiled (PYTHONDONTWRITEBYTECODE would otherwise make every probe compile)
	$(PY) -m compileall -q tracker desktop benchmarks >/dev/null
	$(PY) -m benchmarks --repeats 5 --markdown --built snapshot,import,commits

reliability: deps system-deps
	EXPENSE_TRACKER_THOROUGH=1 QTWEBENGINE_DISABLE_SANDBOX=1 xvfb-run -a $(PY) -m pytest -s tests/test_crash.py \
	  tests/test_concurrency.py tests/test_reliability_crash.py tests/test_reliability_faults.py \
	  tests/test_reliability_load.py tests/test_fuzz_api.py tests/test_fuzz_cli.py tests/test_fuzz_importers.py \
	  tests/test_unicode.py tests/test_security.py tests/test_offline.py

dist: deps
	$(VENV)/bin/pyinstaller --noconfirm --clean --workpath .pyinstaller-work --distpath dist build/expense-tracker.spec
	@if [ "$$(uname)" = Linux ]; then $(PY) build/packages.py --dist dist/expense-tracker --out dist; fi

clean:
	rm -rf $(VENV) dist .pyinstaller-work .pytest_cache .mypy_cache .ruff_cache
