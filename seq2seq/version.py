"""The package's version: what `seq2seq --version` prints and what a run directory's format.json records."""

__version__ = "0.1.0"
