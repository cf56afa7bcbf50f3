# Two commands do everything (see README.md):
#   make book   build the website into _build/html (creates .venv on first use)
#   make test   run the whole test suite
# While you work: make check (ruff and the quick tests, about a minute).
# Also: make lab (JupyterLab on the book), make bench (performance figures),
# make pdf (the whole book as one PDF, _build/html/_static/book.pdf, linked by the website),
# make robust (every trained claim under 5 seeds x 3 floating-point paths, about an hour),
# make assignments (graded coursework editions), make clean.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BOOK_STAMP := $(VENV)/.book-installed
TEST_STAMP := $(VENV)/.test-installed
JS_STAMP := tests/js/node_modules/.installed
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
# PyPI's Linux torch wheel brings several GB of CUDA libraries. On Linux, take the CPU build
# from PyTorch's own index, unless a CPU wheel is already at hand in pip's find-links (as on the
# project's offline machines, where that index is out of reach). TORCH_INDEX= turns it off.
FIND_LINKS := $(PIP_FIND_LINKS) $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
LOCAL_CPU_TORCH := $(wildcard $(addsuffix /torch-*+cpu-*.whl,$(subst :, ,$(FIND_LINKS))))
TORCH_INDEX ?= $(if $(and $(filter Linux,$(shell uname -s)),$(if $(LOCAL_CPU_TORCH),,yes)),https://download.pytorch.org/whl/cpu)
PIP_TORCH := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

# Targets named like folders (book/, tests/) must be phony, or make calls them up to date.
.PHONY: book pdf test check lint lab bench robust clean venv assignments torch-index

$(BOOK_STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_TORCH) -r requirements.txt
	$(BIN)/python -m vaebook.lab_settings
	touch $@

$(TEST_STAMP): $(BOOK_STAMP) requirements-test.txt
	$(PIP) install -r requirements-test.txt
	touch $@

# JavaScript that the public site loads from CDNs, vendored from npm for the offline browser tests.
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

venv: $(BOOK_STAMP)

book: $(BOOK_STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "The book is built: open _build/html/index.html in a browser."

# The whole book as one PDF: every chapter on one page (Sphinx's singlehtml builder, from the
# website's execution cache), printed by the chromium of the tests (tools/book_pdf.py).
pdf: book $(TEST_STAMP) $(JS_STAMP)
	tests/ensure-chromium
	$(BIN)/jupyter-book build . --builder singlehtml --warningiserror --keep-going
	$(BIN)/python tools/book_pdf.py

# Lint and format check (configured in pyproject.toml): the first step of check and test.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The quick tier: lint, then every test that needs no book build, browser, grading or long
# training (markers in pyproject.toml), on two workers.
QUICK := not build and not browser and not assignments and not slow
check: lint
	$(BIN)/python -m pytest -n 2 -m "$(QUICK)" -q

# Two pytest workers: the book build and the trained chapters' second run (another seed and
# floating-point path) each keep one core busy; the other tests fill the gaps.
test: lint $(JS_STAMP)
	tests/ensure-chromium
	tests/ensure-bubblewrap
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20

lab: $(BOOK_STAMP)
	$(BIN)/jupyter lab --notebook-dir=. book/intro.md

# Student edition and autograder of the graded assignments (see assignments/README.md);
# INSTALL_SOURCE=release|commit|<pip requirement> chooses what the set-up cell installs.
assignments: $(TEST_STAMP)
	$(BIN)/python assignments/build.py $(if $(COURSE_SEED),--course-seed $(COURSE_SEED)) \
	  $(if $(INSTALL_SOURCE),--install-source $(INSTALL_SOURCE))

bench: $(BOOK_STAMP)
	$(BIN)/python bench/run.py

# The robustness study: every trained chapter under 5 seeds x 3 floating-point paths, each from
# an empty training cache, two runs at a time; fails if any claim fails anywhere.
robust: $(BOOK_STAMP)
	$(BIN)/python -m vaebook.robust --jobs 2 --output bench/robustness.md --records bench/robustness.json

clean:
	rm -rf _build

# Where `make book` takes torch from (see TORCH_INDEX above); tests/test_repository.py uses it.
torch-index:
	@echo "$(if $(TORCH_INDEX),$(TORCH_INDEX),local or PyPI)"
