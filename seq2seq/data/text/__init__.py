"""Text data: reading lines and corpora (`lines.py`, `corpora.py`, `conversations.py`), the synthetic text tasks,
tokenizers, and the pipeline that turns a config's corpora into training data."""
