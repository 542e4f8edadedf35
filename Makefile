# The two commands: `make run` (the main job) and `make test` (the project's own tests).
# Both set everything up on a fresh machine: .venv, dependencies, the FHIR core package.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test setup browser lint profiles fixtures bench clean lock

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/vhr setup

# The main job: `vhr run` is a full acceptance run by default (every suite against the embedded
# reference server with TLS, OAuth2 and the XML 130 twins, then the short standard load, so the
# PERF criteria are judged too). `make run ARGS="--target URL ..."` points it elsewhere.
RUN_ARGS ?=

run: setup
	$(BIN)/vhr run $(RUN_ARGS) $(ARGS)

# Headless Chromium (and its driver) render the HTML report, the certificate PDF and the console's
# browser test; installed from Debian when we can, otherwise those tests are skipped with their reason.
browser:
	@{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } && \
	  command -v chromedriver >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "chromium not installed: the browser tests will be skipped"

# Lint, format, types, then the tests.
test: setup browser lint
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests suites benchmarks loadtests
	$(BIN)/ruff format --check src tests suites benchmarks loadtests
	$(BIN)/mypy

profiles: setup
	$(BIN)/python profiles/build.py $(ARGS)

fixtures: setup
	$(BIN)/vhr fixtures

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

# Record the versions of the dev environment as the constraints of the next install.
lock: $(STAMP)
	{ echo "# Versions the harness was tested with (pip freeze of the dev environment, vhr-conformance itself excluded)."; \
	  echo "# make installs with these as constraints, so runs are reproducible; regenerate with make lock."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^vhr'; } > requirements.lock

clean:
	rm -rf $(VENV) reports/*/
