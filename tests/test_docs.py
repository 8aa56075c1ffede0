"""The project documents itself: every Markdown file and relative link the docs, configs and code name exists."""

import re
from pathlib import Path

from helpers import REPO

NAMED_MD = re.compile(r"(?<![\w/.-])([\w./-]+\.md)\b")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Benchmark and experiment scripts are left out: they name the results they write, which exist once they have run.
SOURCES = ["README.md", "docs/*.md", "configs/**/*.yaml", "seq2seq/**/*.py", "Makefile", ".ci/run"]
OUTSIDE = ("../shared/",)          # the data folder's own README lives beside the repository, not in it


def documents() -> list[Path]:
    return sorted({path for pattern in SOURCES for path in REPO.glob(pattern) if path.is_file()})


def exists(name: str, near: Path) -> bool:
    return any((base / name).exists() for base in (REPO, near.parent, near.parent / "results", REPO / "docs"))


def test_every_markdown_file_named_exists():
    missing = [f"{path.relative_to(REPO)}: {name}" for path in documents()
               for name in NAMED_MD.findall(path.read_text(encoding="utf-8"))
               if not name.startswith(OUTSIDE) and not exists(name, path)]
    assert not missing, missing


def test_every_relative_link_in_the_markdown_resolves():
    broken = [f"{path.relative_to(REPO)}: {target}" for path in documents() if path.suffix == ".md"
              for target in LINK.findall(path.read_text(encoding="utf-8"))
              if "://" not in target and not target.startswith(("mailto:", *OUTSIDE)) and not exists(target, path)]
    assert not broken, broken
