# make demo: create .venv, install torch (CPU wheel, pinned) then the package, run the built-in demo.
# make test: lint, then the test suite (installs first if needed).
# make lint: ruff on the package ([tool.ruff] in pyproject.toml).
# make docs: the documentation site in site/ (installs the docs extra first if needed); warnings are errors.
# make fonts: (root, Debian) the fonts configs/ocr_lines.yaml renders with, and Tesseract 5 (benchmarks/ocr_peer.py).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: demo test lint install clean bench docs fonts

# configs/ocr_lines.yaml's fonts (the tests need only fonts-dejavu-core) and the Tesseract peer with English and French
FONT_PACKAGES := fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf fonts-urw-base35 \
	fonts-crosextra-carlito fonts-crosextra-caladea fonts-roboto-unhinted tesseract-ocr tesseract-ocr-eng \
	tesseract-ocr-fra

fonts:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(FONT_PACKAGES)

$(BIN)/seq2seq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[test,onnx]"
	touch $(BIN)/seq2seq

install: $(BIN)/seq2seq

demo: install
	$(BIN)/seq2seq demo

# -n auto: one test process per core (tests/conftest.py gives each one torch thread); then, in one process, the
# tests marked `alone`, which measure what other processes use and would count the other test process as one
test: install lint
	$(BIN)/python -m pytest -q -n auto -m "not alone"
	$(BIN)/python -m pytest -q -m alone

lint: install
	$(BIN)/ruff check seq2seq

# mkdocs.yml: the site's pages and nav; docs/gen_reference.py generates the reference pages from the code at build
# time. --strict fails on any warning: a broken link or anchor, a nav entry naming no page, a bad docstring.
$(BIN)/mkdocs: pyproject.toml | $(BIN)/seq2seq
	$(BIN)/pip install --quiet -e ".[docs]"
	touch $(BIN)/mkdocs

# NO_MKDOCS_2_WARNING: Material for MkDocs prints a banner about its end of life (May 2027) on every build
docs: install $(BIN)/mkdocs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# make bench RUN=runs/m30k_ref: every benchmark of docs/performance.md, one after another (about 40 min on 2 cores;
# RUN is a trained reference model for the decoding benchmark). Results: benchmarks/results/*.json.
RUN ?= runs/m30k_ref
bench: install
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/efficiency.py
	$(BIN)/python benchmarks/decode_throughput.py $(RUN)
	$(BIN)/python benchmarks/length_scaling.py
	$(BIN)/python benchmarks/time_to_bleu.py
	$(BIN)/python benchmarks/profile_training.py --decode $(RUN)

clean:
	rm -rf $(VENV) runs .pytest_cache site
