"""A corpus by name, whatever its format: a `.tsv` of source<TAB>target, a PREFIX read as PREFIX.<src_lang> +
PREFIX.<tgt_lang>, a folder of conversations (chatterbot YAML), or a pronouncing dictionary (`cmudict` or a `.dict`
file: spelled words → phonemes) — the one reader `data.train`, `data.valid`,
`data.test` and `evaluate --test` go through."""

from __future__ import annotations

from typing import Optional

from .conversations import is_conversations, read_conversations
from .lexicon import is_lexicon, read_lexicon
from .lines import Corpus, corpus_paths, read_parallel, read_tsv


def read_corpus(root: Optional[str], name: str, src_lang: Optional[str], tgt_lang: Optional[str]) -> Corpus:
    if is_conversations(name):
        return read_conversations(root, name)
    if is_lexicon(name):
        return read_lexicon(root, name)
    paths = corpus_paths(root, name, src_lang, tgt_lang)
    if len(paths) == 1:
        return read_tsv(paths[0])
    return read_parallel(*paths)
