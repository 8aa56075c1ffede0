"""Dialogue corpora as input → reply pairs: YAML files with a `conversations:` list of turn lists (the
chatterbot-corpus layout), each consecutive pair of turns one pair.

    corpus = read_conversations(root, "chatterbot-english/*.yml")     # a file, or a glob of files

Scalars are read as written (YAML's BaseLoader: no object construction, as safe as safe_load, and "Yes", "No",
"3.14" stay text — safe_load would turn a reply "Yes" into True); a turn that spans several lines keeps its words,
joined by single spaces (the text pipeline is one segment per line). Turns that are not text (nested lists, maps)
are skipped with a warning naming the file and conversation.

Every pair carries its conversation as its hold-out group, and conversations that share a turn are one group: a
held-out validation split (`data/held_out.py`) then never puts a reply the model trained on, nor a question it
trained on, on the validation side.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Optional

import yaml

from ...errors import UserError, warn
from .lines import Corpus

SUFFIXES = (".yml", ".yaml")


def is_conversations(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def conversation_files(root: Optional[str], name: str) -> list[Path]:
    pattern = str((Path(root) if root else Path(".")) / name)
    files = sorted(Path(p) for p in glob.glob(pattern)) if glob.has_magic(pattern) else [Path(pattern)]
    if not files or not all(f.is_file() for f in files):
        raise UserError(f"no conversation file matches {pattern}")
    return files


def read_conversations(root: Optional[str], name: str) -> Corpus:
    """Input → reply pairs of every conversation in the files `name` names, grouped for held-out splits."""
    dialogues = [turns for path in conversation_files(root, name) for turns in _dialogues(path)]
    src, tgt, groups = [], [], []
    for number, turns in enumerate(dialogues):
        for question, reply in zip(turns, turns[1:]):
            src.append(question)
            tgt.append(reply)
            groups.append(number)
    if not src:
        raise UserError(f"{name}: no conversation with two turns or more")
    return Corpus(src, tgt, str(name), groups=_merge_sharing_turns(dialogues, groups))


def _dialogues(path: Path) -> list[list[str]]:
    """The turn lists of one file, each turn one line of text."""
    try:
        document = _strings_only(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not readable as YAML ({str(exc).splitlines()[0]})") from None
    conversations = document.get("conversations") if isinstance(document, dict) else None
    if not isinstance(conversations, list):
        raise UserError(f"{path}: no `conversations:` list")
    out = []
    for number, turns in enumerate(conversations, start=1):
        text = [" ".join(t.split()) for t in turns if isinstance(t, str)] if isinstance(turns, list) else []
        if not isinstance(turns, list) or len(text) < len(turns):
            warn(f"{path}: conversation {number} has turns that are not text: skipped")
            continue
        out.append(text)
    return out


def _strings_only(text: str):
    """The YAML document with every scalar a string: BaseLoader's constructor builds only str, list and dict and
    refuses every other tag (no object is ever constructed, as with safe_load)."""
    loader = yaml.BaseLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _merge_sharing_turns(dialogues: list[list[str]], groups: list[int]) -> list[str]:
    """Each pair's group key: its conversation, with conversations that share a turn merged (union-find)."""
    parent = list(range(len(dialogues)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[str, int] = {}
    for number, turns in enumerate(dialogues):
        for turn in turns:
            other = first_seen.setdefault(turn.lower(), number)
            parent[root(number)] = root(other)
    return [f"conversation {root(g)}" for g in groups]
