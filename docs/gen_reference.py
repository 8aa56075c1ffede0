"""The reference pages of the documentation site, generated from the code each time the site is built.

mkdocs loads this file as a hook (`hooks:` in mkdocs.yml). `on_files` adds the generated pages to the build in
memory, so nothing generated is ever written into the repository:

    reference/config.md         every field of every task's config: key, type, default, description (seq2seq/config.py)
    reference/cli.md            every command, argument and flag of `seq2seq` (seq2seq.cli.build_parser)
    reference/run-directory.md  the run-directory layout (the `run/` tree in the docstring of seq2seq/rundir.py)
    changelog.md                the repository's CHANGELOG.md, when there is one

The page builders are plain functions of what they document, so tests/test_reference_docs.py calls them (and
`undocumented_config_fields` / `undocumented_cli`, which name what has no description) without mkdocs.

Two more things happen at build time, for pages this site shows but does not own:
- nav entries for OPTIONAL_PAGES that do not exist yet are dropped, and a nav entry naming a folder (`notes/`)
  becomes the list of the Markdown pages in it (dropped while it has none);
- images that a page takes from the repository outside docs/ (`![...](../experiments/results/x.png)`) are copied
  into the site under `assets/repo/` and the page's link points there, so the plots show on the site too.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import json
import logging
import posixpath
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal, Optional, Union

from pydantic import BaseModel

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
CONFIG_PAGE, CLI_PAGE, RUN_DIR_PAGE, CHANGELOG_PAGE = (
    "reference/config.md", "reference/cli.md", "reference/run-directory.md", "changelog.md")
# pages of the nav that other work writes and that may not exist yet: left out of the nav while they are missing
OPTIONAL_PAGES = ("results.md", "architecture.md", CHANGELOG_PAGE)
REPO_ASSETS = "assets/repo"      # where images taken from outside docs/ go in the site
IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")

log = logging.getLogger("mkdocs.hooks.gen_reference")


# ----------------------------------------------------------------------------------------------------------------
# Markdown helpers

def text(value: str) -> str:
    """Text for a Markdown table cell, shown as written: outside code spans, the characters Markdown or HTML would
    read (`<`, `&`, `|`, `*`, `_`, `[`, `{`) are escaped; newlines are joined."""
    parts = re.split(r"(`[^`]*`)", " ".join(value.split()))
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(part)                  # a code span: the table splitter leaves its pipes alone
        else:
            out.append(part.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")
                       .replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("{", "&#123;"))
    return "".join(out)


def sentence(value: str) -> str:
    """A description as a sentence: capital first letter, a full stop at the end."""
    value = " ".join(value.split())
    if value and not value.endswith((".", "!", "?", ":", ")")):
        value += "."
    return text(value[:1].upper() + value[1:])


def code(value: str) -> str:
    """`value` as an inline code span (a double-backtick one when it holds a backtick)."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts if part)


# ----------------------------------------------------------------------------------------------------------------
# Config reference (seq2seq/config.py)

@dataclass
class FieldDoc:
    key: str              # dotted, e.g. model.encoder.hidden_size
    type: str             # in words: `int, > 0`, `one of gru, lstm`
    default: str          # `256`, `null`, `required`
    description: str      # the field's description ("" when it has none)


@dataclass
class SectionDoc:
    key: str                                   # dotted path of the section; "" for the top level
    model: type[BaseModel]                     # the config class that defines it
    description: str                           # the field's description, else the class docstring
    optional: bool                             # may be left out (default null)
    shared: bool = False                       # the same class at the same key as in translation's config
    fields: list[FieldDoc] = field(default_factory=list)


def config_module():
    """seq2seq.config, with every task registered (tasks may add their config class to CONFIGS on import)."""
    from seq2seq import config

    try:
        import seq2seq.tasks  # noqa: F401
    except ImportError:
        pass
    return config


def _docstring(model: type) -> str:
    """The class's own docstring, or the nearest config base class's (never pydantic's)."""
    for cls in model.__mro__:
        if cls is BaseModel or cls.__module__.startswith("pydantic"):
            break
        doc = cls.__dict__.get("__doc__")
        if doc:
            return inspect.cleandoc(doc)
    return ""


def _section_class(annotation: Any) -> Optional[type[BaseModel]]:
    """The one config class a field holds (also inside Optional[...]), else None."""
    candidates = [c for c in (annotation, *typing.get_args(annotation))
                  if isinstance(c, type) and issubclass(c, BaseModel)]
    return candidates[0] if len(candidates) == 1 else None


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"))
    return json.dumps(value, ensure_ascii=False)


def type_words(annotation: Any) -> str:
    """A field's type as a config writer reads it: `int`, `float or null`, `one of gru, lstm`, `[int, int]`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is Literal:
        values = [code(_value(a)) for a in args]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    if origin is Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        kept = [a for a in args if a is not type(None)]
        words = " or ".join(type_words(a) for a in kept)
        return words + (" or null" if len(kept) < len(args) else "")
    if origin is tuple:
        return "[" + ", ".join(type_words(a) for a in args if a is not Ellipsis) + "]"
    if origin is list:
        return f"list of {type_words(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _constraints(info) -> list[str]:
    """`> 0`, `<= 1`, `matches ^...$` from a field's annotated-types metadata."""
    out = []
    for item in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            bound = getattr(item, attr, None)
            if bound is not None:
                out.append(f"{sign} {_value(bound)}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            out.append(f"matches {pattern}")
    return out


REQUIRED = ("required", "required in the section")


def _default(info, in_optional_section: bool) -> str:
    if info.is_required():
        return REQUIRED[1] if in_optional_section else REQUIRED[0]
    value = info.get_default(call_default_factory=True)
    return _value(value)


def task_configs() -> dict[str, type[BaseModel]]:
    """{task: its config class}, as `seq2seq.config.validate` chooses them by `task:`."""
    return dict(config_module().CONFIGS)


def config_sections(task: str, configs: Optional[dict[str, type[BaseModel]]] = None) -> list[SectionDoc]:
    """The sections of one task's config, depth first, each with its own (non-section) fields. A section of another
    task is `shared` when translation's config has the same class at the same key (it is documented there)."""
    configs = task_configs() if configs is None else configs
    root, reference = configs[task], configs.get("translation")

    def at(model: type[BaseModel], key: str) -> Optional[type[BaseModel]]:
        for part in key.split(".") if key else ():
            info = model.model_fields.get(part)
            model = _section_class(info.annotation) if info is not None else None
            if model is None:
                return None
        return model

    sections: list[SectionDoc] = []

    def walk(model: type[BaseModel], key: str, description: str, optional: bool, inside_optional: bool) -> None:
        shared = bool(key) and reference is not None and task != "translation" and at(reference, key) is model
        section = SectionDoc(key, model, description or _docstring(model), optional, shared)
        sections.append(section)
        for name, info in model.model_fields.items():
            child = f"{key}.{name}" if key else name
            sub = _section_class(info.annotation)
            if sub is not None:
                may_omit = not info.is_required() and info.get_default() is None
                walk(sub, child, info.description or "", may_omit, inside_optional or may_omit)
                continue
            words = type_words(info.annotation)
            limits = _constraints(info)
            section.fields.append(FieldDoc(child, ", ".join([words, *limits]), _default(info, inside_optional),
                                           info.description or ""))

    walk(root, "", _docstring(root), False, False)
    return sections


def config_page(configs: Optional[dict[str, type[BaseModel]]] = None) -> str:
    configs = task_configs() if configs is None else configs
    out = [
        "# Config reference",
        "",
        "Generated from `seq2seq/config.py` when this site is built: every field of every task's config, with its "
        "type, default and description. `seq2seq config` prints the same list in a terminal.",
        "",
        "A config is YAML: a `task:` (`translation` when absent) and the sections `data`, `tokenizer`, `model`, "
        "`train` and `decode`. The task decides which `data` and `model` fields exist; the other sections are the "
        "same for every task. Unknown keys and bad values are one-line errors naming the key, the value and what is "
        "allowed. `--set KEY=VALUE` on the command line overrides any field (the value is read as YAML: `true`, "
        "`5e-4`, `[1, 2]`). Paths in `data` are relative to the config file.",
        "",
        "A section marked *optional* is off unless it is given; its *required in the section* fields must then be "
        "set. Defaults are written as YAML.",
        "",
        "Tasks: " + ", ".join(f"[`{task}`](#{anchor('task', task)})" for task in configs) + ".",
        "",
    ]
    for task, root in configs.items():
        summary = _docstring(root).splitlines()[0] if _docstring(root) else ""
        out += [f"## task: `{task}` {{ #{anchor('task', task)} }}", "", text(summary), ""]
        sections = config_sections(task, configs)
        for section in sections:
            heading = f"`{section.key}`" if section.key else "Top level"
            out += [f"### {heading} {{ #{anchor(task, section.key or 'top')} }}", ""]
            if section.shared:
                out += [f"The same as in translation: [`{section.key}`](#{anchor('translation', section.key)}).", ""]
                continue
            intro = sentence(section.description) if section.description and section.key else ""
            if section.optional:
                intro = (intro + " " if intro else "") + "*Optional*: off unless given (default `null`)."
            if intro:
                out += [intro, ""]
            if section.fields:
                rows = [(code(f.key), text(f.type), f"*{f.default}*" if f.default in REQUIRED else code(f.default),
                         text(f.description)) for f in section.fields]
                out += [table(("Key", "Type", "Default", "Description"), rows), ""]
            subsections = [s.key for s in _children(sections, section.key)]
            if subsections and not section.fields:
                out += ["Sections: " + ", ".join(f"[`{k}`](#{anchor(task, k)})" for k in subsections) + ".", ""]
    return "\n".join(out)


def _children(sections: list[SectionDoc], key: str) -> list[SectionDoc]:
    depth = key.count(".") + 1 if key else 0
    prefix = key + "." if key else ""
    return [s for s in sections if s.key.startswith(prefix) and s.key and s.key.count(".") == depth]


def undocumented_config_fields(configs: Optional[dict[str, type[BaseModel]]] = None) -> list[str]:
    """`Class.field (task: key)` for every config field with no description; a section's description may instead
    be its class's docstring."""
    configs = task_configs() if configs is None else configs
    missing: dict[str, str] = {}
    for task in configs:
        for section in config_sections(task, configs):
            for name, info in section.model.model_fields.items():
                if info.description:
                    continue
                sub = _section_class(info.annotation)
                if sub is not None and _docstring(sub):
                    continue
                owner = next((c for c in section.model.__mro__ if name in c.__dict__.get("__annotations__", {})),
                             section.model)
                key = f"{section.key}.{name}" if section.key else name
                missing.setdefault(f"{owner.__name__}.{name}", f"{owner.__name__}.{name} ({task}: {key})")
    return sorted(missing.values())


# ----------------------------------------------------------------------------------------------------------------
# CLI reference (seq2seq.cli.build_parser)

@dataclass
class ArgumentDoc:
    name: str            # what --help shows: `-o DIR, --output DIR`, `RUN_DIR`
    default: str         # "", `best`, *required*
    help: str
    choices: list[str]
    positional: bool


@dataclass
class CommandDoc:
    path: str                          # `seq2seq train`
    help: str                          # the one line in the parent's command list
    description: str
    epilog: str
    usage: str
    arguments: list[ArgumentDoc]
    exclusive: list[list[str]]         # groups of options of which one (at most one) may be given
    commands: list[str]                # sub-commands, by path


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(parser.prog, width=100, max_help_position=40)


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _argument(parser: argparse.ArgumentParser, action: argparse.Action) -> ArgumentDoc:
    formatter = _formatter(parser)
    name = formatter._format_action_invocation(action)
    if not action.option_strings and action.metavar is None and action.choices:
        name = action.dest                    # not `{dates,speech}`: the choices follow the help
    help_text = formatter._expand_help(action) if action.help else ""
    default = ""
    if action.required and (action.option_strings or action.nargs not in ("?", "*")):
        default = "*required*"            # argparse also marks `nargs="*"` positionals required: they are not
    elif isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._VersionAction,
                             argparse._CountAction)):
        default = ""
    elif action.default not in (None, argparse.SUPPRESS, [], ()):
        value = action.default
        default = code(" ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))
    choices = [str(c) for c in action.choices] if action.choices and not isinstance(
        action, argparse._SubParsersAction) else []
    return ArgumentDoc(name, default, help_text, choices, not action.option_strings)


def cli_commands(parser: Optional[argparse.ArgumentParser] = None) -> list[CommandDoc]:
    """The parser and every sub-command below it, depth first, with their arguments in --help order."""
    if parser is None:
        from seq2seq.cli import build_parser

        parser = build_parser()
    out: list[CommandDoc] = []

    def walk(p: argparse.ArgumentParser, help_line: str) -> None:
        formatter = _formatter(p)
        formatter.add_usage(p.usage, p._actions, p._mutually_exclusive_groups, prefix="")
        arguments = [_argument(p, a) for a in p._actions
                     if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
                     and a.help != argparse.SUPPRESS]
        exclusive = [[a.option_strings[-1] if a.option_strings else a.dest for a in group._group_actions]
                     + (["(required)"] if group.required else []) for group in p._mutually_exclusive_groups]
        subs = list(_subparsers(p))
        doc = CommandDoc(p.prog, help_line, p.description or "", p.epilog or "", formatter.format_help().strip(),
                         arguments, exclusive, [sub.prog for _, _, sub in subs])
        out.append(doc)
        for _, sub_help, sub in subs:
            walk(sub, sub_help)

    walk(parser, parser.description or "")
    return out


def cli_page(parser: Optional[argparse.ArgumentParser] = None) -> str:
    commands = cli_commands(parser)
    top = commands[0]
    out = [
        "# Command-line reference",
        "",
        f"Generated from the argument parser (`seq2seq.cli.build_parser()`) when this site is built: every command "
        f"of `{top.path}` with its arguments, defaults and help, as `{top.path} COMMAND --help` shows them. "
        f"`python -m seq2seq` is the same command line. A user error prints one line on stderr and exits with "
        f"status 2.",
        "",
    ]
    rows = [(f"[`{c.path}`](#{anchor(c.path)})", text(c.help)) for c in commands[1:]]
    out += [table(("Command", "What it does"), rows), ""]
    for command in commands:
        title = f"`{command.path}`" if command is not top else f"`{command.path}` (global options)"
        out += [f"## {title} {{ #{anchor(command.path)} }}", ""]
        if command.help and command is not top:
            out += [text(command.help[:1].upper() + command.help[1:]) + ".", ""]
        if command.description and command.description != command.help:
            out += [text(command.description), ""]
        out += ["```text", command.usage, "```", ""]
        if command.arguments:
            rows = []
            for arg in command.arguments:
                help_text = text(arg.help) if arg.help else "*(no help)*"
                if arg.choices:
                    help_text += " Choices: " + ", ".join(code(c) for c in arg.choices) + "."
                rows.append((code(arg.name), arg.default, help_text))
            out += [table(("Argument", "Default", "Description"), rows), ""]
        for group in command.exclusive:
            required = group[-1] == "(required)"
            names = [g for g in group if g != "(required)"]
            out += [("Exactly one" if required else "At most one") + " of " + ", ".join(code(n) for n in names)
                    + ".", ""]
        if command.commands:
            out += ["Commands: " + ", ".join(f"[`{p.split()[-1]}`](#{anchor(p)})" for p in command.commands) + ".",
                    ""]
        if command.epilog:
            out += ["```text", command.epilog.strip("\n"), "```", ""]
    return "\n".join(out)


def undocumented_cli(parser: Optional[argparse.ArgumentParser] = None) -> list[str]:
    """`seq2seq demo --quiet`-like names of every command, argument and flag that has no help text."""
    missing = []
    for command in cli_commands(parser):
        if not command.help and command.path.count(" ") > 0:
            missing.append(f"{command.path} (the command)")
        missing += [f"{command.path} {arg.name}" for arg in command.arguments if not arg.help.strip()]
    return missing


# ----------------------------------------------------------------------------------------------------------------
# Run-directory reference (the docstring of seq2seq/checkpoint.py)

def _module_docstring(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise RuntimeError(f"module {module} not found")
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8")), clean=False) or ""
    return doc.expandtabs()                   # as written: the tree's indentation is kept


RUN_DIR_MODULES = ("seq2seq.rundir", "seq2seq.checkpoint")   # where the layout's docstring may live, in order


def run_directory_module() -> str:
    """The first of RUN_DIR_MODULES whose docstring draws the `run/` tree."""
    for module in RUN_DIR_MODULES:
        try:
            doc = _module_docstring(module)
        except (ImportError, RuntimeError):
            continue
        if re.search(r"^\s+run/\s*$", doc, re.MULTILINE):
            return module
    raise RuntimeError(f"no run/ tree in the docstring of any of {', '.join(RUN_DIR_MODULES)}")


def run_directory_entries(doc: Optional[str] = None) -> tuple[str, list[tuple[str, str]], str]:
    """(intro, [(entry, what)], the rest) from the run-directory module's docstring: its tree block `run/` is one
    entry a line, the name then two or more spaces then what it holds; deeper-indented lines continue it."""
    doc = _module_docstring(run_directory_module()) if doc is None else doc
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().endswith("/") and line.startswith(" ")), None)
    if start is None:
        return doc.strip(), [], ""
    intro = "\n".join(lines[:start]).strip()
    entries: list[tuple[str, str]] = []
    indent = None
    end = len(lines)
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            end = i
            break
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth == indent:
            name, _, what = line.strip().partition("  ")
            entries.append((name.strip(), what.strip()))
        elif depth > indent and entries:
            name, what = entries[-1]
            entries[-1] = (name, f"{what} {line.strip()}")
        else:
            end = i
            break
    rest = "\n".join(lines[end:]).strip()
    return intro, entries, rest


def run_directory_page() -> str:
    module = run_directory_module()
    intro, entries, _ = run_directory_entries()       # what follows the tree is about the module, not the files
    source = module.replace(".", "/") + ".py"
    out = [
        "# Run directory",
        "",
        f"Generated from the docstring of `{source}` when this site is built. A run directory is what "
        "`seq2seq train` writes and every other command reads: pass it around whole. Every write is atomic "
        "(a temporary file, then a rename), so a run killed at any moment resumes from its last save.",
        "",
        text(intro),
        "",
        table(("Entry", "What it holds"), [(code(name), text(what)) for name, what in entries]),
        "",
    ]
    out += ["Resuming a run from it: [Resume an interrupted run](../how-to/resume.md). Averaging its "
            "`checkpoints/`: [Ensembles and checkpoint averaging](../how-to/ensembles-and-averaging.md).", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------------------------
# The changelog (CHANGELOG.md at the repository root)

LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def changelog_page(path: Path = REPO / "CHANGELOG.md") -> Optional[str]:
    """CHANGELOG.md with its links to docs/ made relative to the site; None when there is none. A link to another
    repository file (outside docs/) becomes its path in code: the site does not hold it."""
    if not path.is_file():
        return None

    def relink(match: re.Match) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("#", "mailto:")):
            return match.group(0)
        if target.startswith("docs/"):
            return match.group(1) + target[len("docs/"):] + match.group(3)
        return match.group(0)

    markdown = LINK.sub(relink, path.read_text(encoding="utf-8"))
    # [text](path) to a repository file outside docs/: the text, then the path in code
    return re.sub(r"(?<!!)\[([^\]]+)\]\(((?!https?://|#|mailto:)[^)\s]+)\)",
                  lambda m: m.group(0) if (DOCS / m.group(2).split("#")[0]).exists() else
                  (code(m.group(2)) if m.group(1).strip("`") == m.group(2) else f"{m.group(1)} ({code(m.group(2))})"),
                  markdown)


# ----------------------------------------------------------------------------------------------------------------
# The pages, and the mkdocs hooks

PAGES = {CONFIG_PAGE: config_page, CLI_PAGE: cli_page, RUN_DIR_PAGE: run_directory_page}


def generated_pages() -> dict[str, str]:
    pages = {path: build() for path, build in PAGES.items()}
    changelog = changelog_page()
    if changelog is not None:
        pages[CHANGELOG_PAGE] = changelog
    return pages


def _exists(page: str, docs_dir: Path) -> bool:
    if page == CHANGELOG_PAGE:
        return (REPO / "CHANGELOG.md").is_file()
    return (docs_dir / page).exists()


def _folder_pages(folder: str, docs_dir: Path) -> list[str]:
    pages = sorted(p.relative_to(docs_dir).as_posix() for p in (docs_dir / folder).rglob("*.md"))
    index = [p for p in pages if p.endswith(("/index.md", "/README.md"))]
    return index + [p for p in pages if p not in index]


def prune_nav(nav: list, docs_dir: Path) -> list:
    """The nav without the OPTIONAL_PAGES that do not exist yet; a folder entry (`notes/`) becomes its pages."""
    out = []
    for item in nav:
        title, value = next(iter(item.items())) if isinstance(item, dict) else (None, item)
        if isinstance(value, list):
            value = prune_nav(value, docs_dir)
            if not value:
                continue
        elif isinstance(value, str) and "://" not in value:
            if value.endswith("/"):
                value = _folder_pages(value, docs_dir)
                if not value:
                    log.info("nav: %s holds no pages yet; left out", item)
                    continue
            elif value in OPTIONAL_PAGES and not _exists(value, docs_dir):
                log.info("nav: %s does not exist yet; left out", value)
                continue
        out.append({title: value} if title is not None else value)
    return out


def repo_images(markdown: str, page_src: str, docs_dir: Path) -> dict[str, str]:
    """{link as written: repository path} for each image the page takes from the repository outside docs/."""
    found = {}
    for match in IMAGE.finditer(markdown):
        target = match.group(2)
        if "://" in target or not target.lower().endswith(IMAGE_SUFFIXES):
            continue
        path = (docs_dir / posixpath.dirname(page_src) / target).resolve()
        try:
            path.relative_to(docs_dir.resolve())
            continue                                    # inside docs/: mkdocs handles it
        except ValueError:
            pass
        try:
            relative = path.relative_to(REPO).as_posix()
        except ValueError:
            continue
        if path.is_file():
            found[target] = relative
    return found


def on_config(config):
    config["nav"] = prune_nav(config["nav"], Path(config["docs_dir"])) if config["nav"] else config["nav"]
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for path, content in generated_pages().items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    docs_dir = Path(config["docs_dir"])
    images = {}
    for page in files.documentation_pages():
        if page.abs_src_path:
            images.update(repo_images(Path(page.abs_src_path).read_text(encoding="utf-8"), page.src_uri, docs_dir))
    for relative in sorted(set(images.values())):
        files.append(File.generated(config, f"{REPO_ASSETS}/{relative}", abs_src_path=str(REPO / relative)))
    return files


def on_page_markdown(markdown, page, config, files):
    docs_dir = Path(config["docs_dir"])
    images = repo_images(markdown, page.file.src_uri, docs_dir)
    if not images:
        return markdown
    here = posixpath.dirname(page.file.src_uri)

    def relink(match: re.Match) -> str:
        target = match.group(2)
        if target not in images:
            return match.group(0)
        new = posixpath.relpath(f"{REPO_ASSETS}/{images[target]}", here or ".")
        return match.group(1) + new + match.group(3)

    return IMAGE.sub(relink, markdown)
