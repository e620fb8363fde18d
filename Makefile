# vocu-bot — every target installs what it needs first, so each works alone on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench simulator clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || (apt-get update && apt-get install -y python3 python3-venv)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || \
	  (apt-get update && apt-get install -y python3-venv && $(PY) -m venv $(VENV))
	@ldconfig -p | grep -q 'libopus\.so' || (apt-get update -qq && apt-get install -y -qq libopus0) \
	  || echo "warning: libopus0 missing: Discord voice channels will be unavailable"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vocu-bot run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot adapters  # strict on bot/vocu (pyproject)
	env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u ALL_PROXY -u all_proxy \
	  NO_PROXY=127.0.0.1,localhost $(BIN)/pytest -q --cov=bot/vocu --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot adapters  # strict on bot/vocu (pyproject)

bench: $(STAMP)
	$(BIN)/python -m bench

simulator: $(STAMP)
	$(BIN)/vocu-bot simulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
