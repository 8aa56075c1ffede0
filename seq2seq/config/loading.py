"""Reading a config: YAML, `--set` overrides, validation into one-line errors naming the key, path resolution,
and `seq2seq config`'s listing of every field."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import UserError
from .tasks import CONFIGS, Config, TaskConfig, TranslationConfig
from .text import PACKAGED_LEXICON

# ----------------------------------------------------------------------------------------------------------------
# Loading, overrides and error messages

def _describe_error(err: dict[str, Any], origin: str, root: type[BaseModel], overridden: frozenset[str]) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if key in overridden:                    # the value came from the command line, not the file
        origin = "--set"
    if err["type"] == "extra_forbidden":
        return f"{origin}: {unknown_key(tuple(str(p) for p in err['loc']), root)}"
    if err["type"] == "missing":
        return f"{origin}: {key} is required"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], dict):
        return f"{origin}: {key} = {err['input']!r}: {msg}"
    return f"{origin}: {key}: {msg}"


def unknown_key(parts: tuple[str, ...], root: type[BaseModel]) -> str:
    """`unknown key 'a.b'` with the likeliest meant key (a near spelling in the same section, or the same name in
    another section), else the keys allowed there."""
    key, parent = ".".join(parts), _model_at(parts[:-1], root)
    here = list(parent.model_fields) if parent else []
    near = difflib.get_close_matches(parts[-1], here, n=1, cutoff=0.6)
    if near:
        return f"unknown key {key!r}; did you mean {'.'.join((*parts[:-1], near[0]))!r}?"
    elsewhere = [k for k in _all_keys(root) if k.rsplit(".", 1)[-1] == parts[-1]]
    if elsewhere:
        return f"unknown key {key!r}; did you mean {' or '.join(repr(k) for k in elsewhere[:3])}?"
    return f"unknown key {key!r} (allowed here: {', '.join(here) or '?'})"


def _all_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field's dotted key below `model`, sections included."""
    keys = []
    for name in model.model_fields:
        key = prefix + name
        keys.append(key)
        sub = _model_at((name,), model)
        if sub is not None:
            keys.extend(_all_keys(sub, key + "."))
    return keys


def _model_at(loc: tuple, root: type[BaseModel]) -> Optional[type[BaseModel]]:
    """The config class at `loc` below `root` (a task's config class); None where loc is not a section. A field
    holds one section class, or None (`Optional[...]`): a union of several sections would be ambiguous here, so
    tasks are chosen at the root (`task:`), never by a union inside a section."""
    model: type[BaseModel] = root
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [c for c in (ann, *(getattr(ann, "__args__", None) or ()))
                      if isinstance(c, type) and issubclass(c, BaseModel)]
        if len(candidates) != 1:
            return None
        model = candidates[0]
    return model


def task_config_class(raw: dict[str, Any], origin: str = "config") -> type["TaskConfig"]:
    """The config class `raw`'s `task:` selects (translation when absent: configs and runs made before tasks)."""
    task = raw.get("task", "translation")
    if task not in CONFIGS:
        raise UserError(f"{origin}: task = {task!r}: unknown task (allowed: {', '.join(CONFIGS)})")
    return CONFIGS[task]


def validate(raw: dict[str, Any], origin: str = "config", overridden: frozenset[str] = frozenset()) -> Config:
    """Build a task's config from a plain dict, turning validation errors into one-line `UserError`s (blamed on
    `--set` for the `overridden` keys, on `origin` for the others)."""
    if not isinstance(raw, dict):
        raise UserError(f"{origin}: expected a mapping of sections (task, data, tokenizer, model, train, decode), "
                        f"got {type(raw).__name__}")
    root = task_config_class(raw, origin)
    try:
        return root.model_validate(raw)
    except ValidationError as exc:
        raise UserError("; ".join(_describe_error(e, origin, root, overridden) for e in exc.errors())) from None


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.path=value` strings to a raw config dict (values parsed as YAML)."""
    for item in sorted(overrides, key=lambda item: not item.strip().startswith("task=")):   # the task first
        root = task_config_class(raw, "--set")
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected key=value, e.g. --set train.lr=5e-4")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        if parsed is not None and not isinstance(parsed, str) and _is_text_field(parts, root):
            parsed = value            # data.src_lang=no is the language "no", not False
        _check_key(parts, root)
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = parsed
        if parts[:1] == ["train"] and parts[-1] in _BATCH_KEYS:   # one batch budget replaces the other
            other = _BATCH_KEYS[1 - _BATCH_KEYS.index(parts[-1])]
            node.pop(other, None)
    return raw


_BATCH_KEYS = ["batch_sentences", "batch_tokens"]


def _check_key(parts: list[str], root: type[BaseModel]) -> None:
    """A `--set` key names a field: its sections exist and the last part is one of the last section's fields."""
    for depth in range(1, len(parts) + 1):
        parent = _model_at(tuple(parts[: depth - 1]), root)
        if parent is None or parts[depth - 1] not in parent.model_fields:
            raise UserError(f"--set {'.'.join(parts)}: {unknown_key(tuple(parts[:depth]), root)}")
        if depth < len(parts) and _model_at(tuple(parts[:depth]), root) is None:
            raise UserError(f"--set {'.'.join(parts)}: {'.'.join(parts[:depth])} is a value, not a section")


def overridden_keys(overrides: list[str]) -> frozenset[str]:
    return frozenset(item.split("=", 1)[0].strip() for item in overrides if "=" in item)


def _is_text_field(parts: list[str], root: type[BaseModel]) -> bool:
    parent = _model_at(tuple(parts[:-1]), root)
    field = parent.model_fields.get(parts[-1]) if parent else None
    return field is not None and field.annotation in (str, Optional[str])


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}:{where}: YAML syntax error: {problem}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 (byte offset {exc.start})") from None
    return raw if raw is not None else {}


def resolve_paths(config: Config, base: Path) -> Config:
    """Make every path field of PATH_KEYS absolute, relative to `base` (the config file's folder); a config that
    names data files without `data.root` gets `base` as its root."""
    data = config.data
    named = getattr(data, "train", None) or getattr(data, "texts", None)
    if data.root is None and named and getattr(data, "synthetic", None) is None:   # files named
        data.root = str(base)
    for key in PATH_KEYS:
        *parents, name = key.split(".")
        node = config
        for part in parents:
            node = getattr(node, part, None)
        value = getattr(node, name, None)
        if value == PACKAGED_LEXICON:                      # a name, not a path
            continue
        if isinstance(value, str):
            setattr(node, name, _absolute(value, base))
        elif isinstance(value, list):                      # a list of paths (data.lines.texts)
            setattr(node, name, [_absolute(v, base) for v in value])
    return config


def _absolute(path: str, base: Path) -> str:
    resolved = Path(os.path.expandvars(os.path.expanduser(path)))
    return str(resolved if resolved.is_absolute() else (base / resolved).resolve())


YAML_NULLS = ("null", "Null", "NULL", "~")     # `--set KEY=null` clears a path field: nothing to resolve
# relative to the config file, or to the current folder for --set
PATH_KEYS = ("data.root", "data.digits.recordings", "data.lines.texts", "data.manifests", "tokenizer.from_run",
             "tokenizer.g2p", "tokenizer.lexicon", "decode.lm")


def load_config(path: str | Path, overrides: Optional[list[str]] = None) -> Config:
    """Read a YAML config file, apply `--set` overrides, validate and resolve paths."""
    path = Path(path)
    overrides = list(overrides or [])
    for i, item in enumerate(overrides):   # a path given on the command line is relative to the current folder
        key, _, value = item.partition("=")
        if key.strip() in PATH_KEYS and value and value.strip() not in (*YAML_NULLS, PACKAGED_LEXICON) and \
                not Path(os.path.expanduser(value)).is_absolute():
            overrides[i] = f"{key.strip()}={Path(value).resolve()}"
    raw = apply_overrides(read_yaml(path), overrides)
    return resolve_paths(validate(raw, str(path), overridden_keys(overrides)), path.resolve().parent)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def _field_line(key: str, field, optional: bool) -> str:
    default = ("required, if set" if optional else "required") if field.is_required() else repr(field.default)
    ann = field.annotation
    ann = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
    return f"{key:32} {default:14} {ann}  {field.description or ''}".rstrip()


def describe_fields() -> str:
    """Every field of every task's config with its default and description (`seq2seq config`): the translation
    config whole, then for each other task what its config adds to translation's or replaces."""
    lines: list[str] = []

    def walk(model: type[BaseModel], prefix: str, root: type[BaseModel], optional: bool = False) -> None:
        """optional: `model` is a section that may be left out, so its required fields are required only in it."""
        same = _model_at(tuple(prefix.split(".")[:-1]), TranslationConfig) if prefix else None
        inherited = same is not None and issubclass(model, same)           # e.g. every ModelConfig field
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            sub = _model_at(tuple(key.split(".")), root)
            shown = root is TranslationConfig or not (inherited and name in same.model_fields) or name == "task"
            may_omit = not field.is_required() and field.default is None
            if sub is not None and shown and may_omit:
                lines.append(f"{key:32} {'None':14} section  {field.description or ''} (optional: the "
                             f"'if set' fields below are required only when it is given)")
            if sub is not None:
                walk(sub, key + ".", root, optional or may_omit)
            elif shown:
                lines.append(_field_line(key, field, optional))

    for task, root in CONFIGS.items():
        lines.append(f"# task: {task} — {root.__doc__.strip().splitlines()[0]}" +
                     ("" if root is TranslationConfig else " Besides translation's fields:"))
        walk(root, "", root)
    return "\n".join(lines)
