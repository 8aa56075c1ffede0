# make demo: create .venv, install torch (CPU wheel, pinned) then the package, run the built-in demo.
# make test: the test suite (installs first if needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: demo test install clean

$(BIN)/seq2seq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/seq2seq

install: $(BIN)/seq2seq

demo: install
	$(BIN)/seq2seq demo

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
