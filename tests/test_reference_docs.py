"""The documentation site's generated references (docs/gen_reference.py) are complete: every config field and every
CLI argument has a description, and the generated pages list every one of them. Each check is also run on a
deliberately broken copy (an undocumented flag or field, a page missing an entry) to show that it would fail.

The commands the tutorials and how-to guides show are checked too: each parses with the real argument parser and
names configs that exist."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import sys
import typing
from pathlib import Path
from typing import Optional

import pytest
from pydantic import BaseModel, Field

REPO = Path(__file__).resolve().parents[1]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module            # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


# ----------------------------------------------------------------------------------------------------------------
# Independent walks of the code: what the pages must list

def _section(annotation) -> Optional[type[BaseModel]]:
    found = [c for c in (annotation, *typing.get_args(annotation)) if isinstance(c, type) and issubclass(c, BaseModel)]
    return found[0] if len(found) == 1 else None


def config_keys(model: type[BaseModel], prefix: str = "") -> dict[str, type[BaseModel]]:
    """{dotted key of every leaf field: the config class of the section holding it}."""
    keys = {}
    for name, info in model.model_fields.items():
        sub = _section(info.annotation)
        if sub is None:
            keys[prefix + name] = model
        else:
            keys.update(config_keys(sub, f"{prefix}{name}."))
    return keys


def section_at(root: type[BaseModel], key: str) -> Optional[type[BaseModel]]:
    model = root
    for part in key.split(".")[:-1]:
        info = model.model_fields.get(part)
        model = _section(info.annotation) if info is not None else None
        if model is None:
            return None
    return model


def task_chunks(page: str) -> dict[str, str]:
    """The config page cut at its task headings: {task: its part of the page}."""
    parts = re.split(r"^## task: `([a-z_]+)`.*$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def missing_from_config_page(page: str, configs: dict[str, type[BaseModel]]) -> list[str]:
    """Keys the page does not list under their task (or under translation, for a section translation shares)."""
    chunks = task_chunks(page)
    reference = configs.get("translation")
    missing = []
    for task, root in configs.items():
        for key, holder in config_keys(root).items():
            cell = f"| `{key}` |"
            shared = reference is not None and task != "translation" and section_at(reference, key) is holder
            if cell not in chunks.get(task, "") and not (shared and cell in chunks.get("translation", "")):
                missing.append(f"{task}: {key}")
    return missing


def parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """{prog: parser} of the parser and every sub-command below it."""
    out = {parser.prog: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.update(parsers(sub))
    return out


def command_chunks(page: str) -> dict[str, str]:
    parts = re.split(r"^## `([^`]+)`.*$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def missing_from_cli_page(page: str, parser: argparse.ArgumentParser) -> list[str]:
    """Commands without their section, and arguments (each option string, each positional) not in their table."""
    chunks = command_chunks(page)
    missing = []
    for prog, p in parsers(parser).items():
        if prog not in chunks:
            missing.append(f"{prog} (the command)")
            continue
        rows = [line.split(" | ")[0] for line in chunks[prog].splitlines() if line.startswith("| `")]
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            names = action.option_strings or [action.metavar or action.dest]
            for name in names:
                if not any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", row) for row in rows):
                    missing.append(f"{prog} {name}")
    return missing


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    """The real parser, with abbreviated flags refused (a guide must spell `--beam-size` out)."""
    from seq2seq.cli import build_parser

    p = build_parser()
    for each in parsers(p).values():
        each.allow_abbrev = False
    return p


@pytest.fixture(scope="module")
def configs() -> dict[str, type[BaseModel]]:
    return gen.task_configs()


# ----------------------------------------------------------------------------------------------------------------
# Descriptions and help

def test_every_config_field_has_a_description(configs):
    missing = gen.undocumented_config_fields(configs)
    assert not missing, "config fields without a description (Field(description=...)):\n" + "\n".join(missing)


def test_every_cli_command_and_argument_has_help(parser):
    missing = gen.undocumented_cli(parser)
    assert not missing, "CLI arguments without help (add_argument(help=...)):\n" + "\n".join(missing)


def test_a_flag_without_help_is_named(parser):
    from seq2seq.cli import build_parser

    broken = build_parser()
    train = parsers(broken)["seq2seq train"]
    train.add_argument("--undocumented-flag", type=int)
    train.add_argument("undocumented_positional", nargs="?")
    missing = gen.undocumented_cli(broken)
    assert "seq2seq train --undocumented-flag UNDOCUMENTED_FLAG" in missing
    assert "seq2seq train undocumented_positional" in missing
    assert set(missing) - set(gen.undocumented_cli(parser)) == {
        "seq2seq train --undocumented-flag UNDOCUMENTED_FLAG", "seq2seq train undocumented_positional"}


def test_a_config_field_without_description_is_named(configs):
    translation = configs["translation"]
    train_section = translation.model_fields["train"].annotation

    class BrokenTrain(train_section):
        undocumented: int = 3
        documented: int = Field(4, description="has one")

    class BrokenTranslation(translation):
        train: BrokenTrain = BrokenTrain()

    broken = {**configs, "translation": BrokenTranslation}
    missing = gen.undocumented_config_fields(broken)
    assert "BrokenTrain.undocumented (translation: train.undocumented)" in missing
    assert not any("documented (" in m and "undocumented" not in m for m in missing)


# ----------------------------------------------------------------------------------------------------------------
# The generated pages list everything

def test_config_reference_lists_every_field_of_every_task(configs):
    page = gen.config_page(configs)
    assert set(task_chunks(page)) == set(configs)
    assert not missing_from_config_page(page, configs)
    # spot checks that the rows carry the type, default and description
    assert "| `model.decoder.attention` | one of `vanilla`, `bahdanau`, `luong` | `luong` |" in page
    assert "| `train.max_steps` | int or null, > 0 | `null` | stop after this many updates" in page


def test_config_check_fails_on_a_page_missing_a_field(configs):
    page = gen.config_page(configs)
    assert missing_from_config_page(page.replace("| `train.lr` |", "| `train.lrr` |"), configs) == [
        f"{task}: train.lr" for task in configs]
    speech_only = "| `model.frontend.stack` |"
    assert speech_only in page
    assert missing_from_config_page(page.replace(speech_only, "| `x` |", 1), configs) == [
        "speech_to_text: model.frontend.stack"]


def test_config_reference_lists_a_new_field(configs):
    translation = configs["translation"]
    train_section = translation.model_fields["train"].annotation

    class NewTrain(train_section):
        brand_new: int = Field(7, description="a field added to the code")

    class NewTranslation(translation):
        train: NewTrain = NewTrain()

    changed = {**configs, "translation": NewTranslation}
    page = gen.config_page(changed)
    assert "| `train.brand_new` | int | `7` | a field added to the code |" in page
    assert not missing_from_config_page(page, changed)
    assert "translation: train.brand_new" in missing_from_config_page(gen.config_page(configs), changed)


def test_cli_reference_lists_every_command_and_flag(parser):
    page = gen.cli_page(parser)
    assert set(command_chunks(page)) == set(parsers(parser))
    assert not missing_from_cli_page(page, parser)
    assert "| `--beam-size BEAM_SIZE` |   | beam width; 1 = greedy" in page


def test_cli_check_fails_on_a_page_missing_a_flag(parser):
    from seq2seq.cli import build_parser

    page = gen.cli_page(parser)
    assert missing_from_cli_page(page.replace("| `--n-best N` |", "| `--n-bestest N` |"), parser) == [
        "seq2seq translate --n-best", "seq2seq chat --n-best"]
    broken = build_parser()
    parsers(broken)["seq2seq export"].add_argument("--new-flag", help="a flag added to the code")
    assert missing_from_cli_page(page, broken) == ["seq2seq export --new-flag"]
    assert not missing_from_cli_page(gen.cli_page(broken), broken)


def test_run_directory_reference_lists_every_entry():
    doc = gen._module_docstring(gen.run_directory_module())
    tree = re.search(r"^( +)run/\n((?:\1 +.*\n)+)", doc + "\n", re.MULTILINE)
    assert tree, "the run-directory docstring has no run/ tree"
    indent = min(len(line) - len(line.lstrip()) for line in tree.group(2).splitlines())
    names = [line.split()[0] for line in tree.group(2).splitlines() if len(line) - len(line.lstrip()) == indent]
    assert len(names) >= 8 and "config.yaml" in names and "train_state.pt" in names
    page = gen.run_directory_page()
    for name in names:
        assert f"| `{name}` |" in page, name


def test_generated_pages_are_the_reference_pages_of_the_nav():
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for path in gen.PAGES:
        assert f": {path}" in nav, path
        assert not (REPO / "docs" / path).exists(), f"docs/{path} is generated: it must not be in the repository"


# ----------------------------------------------------------------------------------------------------------------
# The commands the tutorials and guides show are real

GUIDES = sorted([REPO / "docs/index.md", REPO / "docs/getting-started.md", *REPO.glob("docs/tutorials/*.md"),
                 *REPO.glob("docs/how-to/*.md"), *REPO.glob("docs/reference/*.md")])
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_commands(markdown: str) -> list[str]:
    commands = []
    for block in SHELL_BLOCK.findall(markdown):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


def seq2seq_args(command: str) -> Optional[list[str]]:
    """The arguments after `seq2seq` (or `torchrun ... -m seq2seq`) in one shell line, redirections dropped; None
    when the line does not run seq2seq."""
    words = shlex.split(command, comments=True)
    starts = [i for i, w in enumerate(words) if w == "seq2seq" and (i == 0 or words[i - 1] in ("|", "-m"))]
    if not starts:
        return None
    args, words = [], iter(words[starts[0] + 1:])
    for word in words:
        if word in ("|", ";", "&&"):
            break
        if word in (">", ">>", "<", "2>"):
            next(words, None)
        else:
            args.append(word)
    return args


def test_guides_exist():
    assert len([g for g in GUIDES if "tutorials" in g.parts]) == 4
    assert len([g for g in GUIDES if "how-to" in g.parts]) == 6


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(REPO / "docs")))
def test_every_command_in_the_guides_parses(guide, parser):
    text = guide.read_text(encoding="utf-8")
    bad = []
    for command in shell_commands(text):
        args = seq2seq_args(command)
        if args is None:
            continue
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            if exc.code != 0:                # --help / --version exit 0
                bad.append(command)
        for word in args:
            if word.startswith("configs/") and not (REPO / word).is_file():
                bad.append(f"{command}: {word} does not exist")
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"(?:^|\s)make (\w+)", text):
        if not re.search(rf"^{target}:", make, re.MULTILINE):
            bad.append(f"make {target}: no such target")
    assert not bad, bad


def test_command_check_catches_a_wrong_flag(parser):
    args = seq2seq_args("echo 'x' | seq2seq translate runs/demo --beam 5 > out.txt  # comment")
    assert args == ["translate", "runs/demo", "--beam", "5"]
    with pytest.raises(SystemExit):
        parser.parse_args(args)
    assert seq2seq_args("torchrun --standalone --nproc-per-node 2 -m seq2seq train c.yaml") == ["train", "c.yaml"]
