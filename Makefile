# The two commands of the README:
#   make demo   set up, then run the whole pipeline on the embedded demo cohort
#   make test   set up, then run the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin

.PHONY: demo test setup plink lint clean mutation

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,cluster]"
	touch $@

setup: $(BIN)/snakemake plink

plink:
	@bash tools/install-plink.sh

demo: setup
	$(BIN)/snakemake --cores $(CORES)
	@echo
	@echo "Done. Report: results/report/report.md (figures beside it);"
	@echo "evaluation: results/evaluate/summary.md; HTML bundle: $(BIN)/snakemake --report report.html"

test: setup
	$(BIN)/python -m pytest

# Mutation testing (not part of `make test`): each module of tests/mutation/modules.toml is
# mutated on its own against its own test files; figures go to tests/mutation/SUMMARY.md.
# About 5 s per mutant on a loaded 2-core machine (splits.py: 157 mutants, 13 min);
# MODULES=neuropathx/splits.py runs one module; MUTATION_ARGS=--survivors reruns only the
# survivors of the last full run (after adding tests: minutes).
mutation: $(BIN)/snakemake
	$(BIN)/python -m pip install --quiet -e ".[mutation]"
	$(BIN)/python tools/mutation.py $(MUTATION_ARGS) $(MODULES)

lint: $(BIN)/snakemake
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint

clean:
	rm -rf .snakemake
	find results -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
