"""Rendered text lines, a built-in seeded generator: lines of text from text files (or random strings of an
alphabet) drawn with Pillow in fonts found on the system, at several sizes, with degradations (blur, noise, JPEG
artefacts, uneven lighting, slight skew, faint ink).

Lines are split by their text (no line in two splits); training renders its lines in `fonts`, validation and test
half in those fonts and half in `unseen_fonts`, which training never sees. Example i of a split is drawn from its
own generator, seeded by (seed, split, i): the same config gives the same images in any order.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ...errors import UserError
from .manifest import ImageSplit
from .reading import to_columns

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
SPLITS = ("train", "valid", "test")
EXTRA_CHARACTERS = set("’‘“”«»–—…œŒ€")        # typographic marks of English and French text


@lru_cache(maxsize=1)
def system_fonts() -> dict[str, Path]:
    """Font files on this machine by name (the file's stem: "DejaVuSans", "LiberationSerif-Regular")."""
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in FONT_SUFFIXES:
                    found.setdefault(path.stem, path)
    return found


def font_path(name: str) -> Path:
    """A font by name (a file stem of `system_fonts`) or by path."""
    if Path(name).suffix.lower() in FONT_SUFFIXES and Path(name).is_file():
        return Path(name)
    fonts = system_fonts()
    if name not in fonts:
        known = ", ".join(sorted(fonts)[:12]) or "none"
        raise UserError(f"font {name!r} not found in {', '.join(map(str, FONT_DIRS))} (some found: {known}; "
                        f"Debian: apt-get install fonts-dejavu-core fonts-liberation)")
    return fonts[name]


def readable(line: str) -> bool:
    return all(c.isprintable() and (ord(c) < 0x250 or c in EXTRA_CHARACTERS) for c in line)


def clip_line(line: str, max_chars: int) -> str:
    """`line` cut to at most `max_chars` characters at a space (a word longer than that is cut inside)."""
    line = " ".join(line.split())
    if len(line) <= max_chars:
        return line
    cut = line.rfind(" ", 0, max_chars + 1)
    return line[: cut if cut > 0 else max_chars]


def text_lines(files: Sequence[Path], min_chars: int, max_chars: int) -> list[str]:
    """The distinct readable lines of the files (each tab-separated field of a TSV line is a line), clipped."""
    seen: dict[str, None] = {}
    for path in files:
        if not path.is_file():
            raise UserError(f"data.lines.texts: {path}: no such file")
        for row in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for field in row.split("\t"):
                line = clip_line(field, max_chars)
                if len(line) >= min_chars and readable(line):
                    seen.setdefault(line)
    if not seen:
        raise UserError(f"data.lines.texts: no readable lines of {min_chars}-{max_chars} characters")
    return list(seen)


def random_strings(alphabet: str, count: int, min_chars: int, max_chars: int, seed: int) -> list[str]:
    """`count` distinct random strings of the alphabet (the built-in task when no text files are given)."""
    rng = np.random.default_rng(seed)
    out: dict[str, None] = {}
    letters = list(alphabet)
    possible = sum(len(letters) ** n for n in range(min_chars, max_chars + 1))
    if possible < count:
        raise UserError(f"data.lines: only {possible:,} strings of {min_chars}-{max_chars} characters of "
                        f"{alphabet!r}; asked for {count:,}")
    while len(out) < count:
        n = int(rng.integers(min_chars, max_chars + 1))
        text = "".join(rng.choice(letters, n))
        if text.strip() == text and "  " not in text:
            out.setdefault(text)
    return list(out)


def split_lines(lines: list[str], sizes: dict[str, int], seed: int) -> dict[str, list[str]]:
    """Disjoint splits of the lines: valid and test first (their sizes), training the rest (at most its size)."""
    order = np.random.default_rng(seed).permutation(len(lines))
    need = sizes["valid"] + sizes["test"]
    if len(lines) <= need:
        raise UserError(f"data.lines: {len(lines):,} distinct lines, not enough for {need:,} validation and test "
                        f"lines and a training set")
    picked = [lines[i] for i in order]
    return {"valid": picked[: sizes["valid"]], "test": picked[sizes["valid"]: need],
            "train": picked[need: need + sizes["train"]]}


def render_line(text: str, font_file: Path, size: int, degrade: float, rng: np.random.Generator):
    """One line of text as a Pillow "L" image (dark ink on light paper), degraded with strength `degrade` in [0, 1]
    (each degradation drawn between none and that strength)."""
    from PIL import Image, ImageDraw, ImageFilter

    font = _font(str(font_file), size)
    ascent, descent = font.getmetrics()
    left, _, right, _ = font.getbbox(text)
    pad_x, pad_y = rng.integers(2, 3 + size // 2, 2), rng.integers(1, 2 + size // 6, 2)
    width, height = int(right - min(left, 0) + pad_x.sum()), int(ascent + descent + pad_y.sum())
    paper = int(255 - rng.uniform(0, 40) * degrade)
    ink = int(rng.uniform(0, 110) * degrade)
    image = Image.new("L", (max(width, 2), max(height, 2)), paper)
    ImageDraw.Draw(image).text((int(pad_x[0] - min(left, 0)), int(pad_y[0])), text, font=font, fill=ink)
    if degrade > 0:
        image = image.rotate(rng.uniform(-1.5, 1.5) * degrade, resample=Image.Resampling.BILINEAR, expand=True,
                             fillcolor=paper)
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.06 * size) * degrade))
        image = _uneven_light_and_noise(image, degrade, rng)
        if rng.random() < 0.5 * degrade:
            image = _jpeg(image, int(rng.uniform(95 - 75 * degrade, 95)))
    return image


def render_split(texts: list[str], fonts: Sequence[str], unseen: Sequence[str], split: str, config,
                 height: int, max_width: int) -> ImageSplit:
    """Every text of a split rendered once: training in `fonts`; validation and test alternately in `fonts` and
    `unseen` (names record the font: "valid-00012 DejaVuSans")."""
    files = {name: font_path(name) for name in (*fonts, *unseen)}
    out = ImageSplit()
    for i, text in enumerate(texts):
        rng = np.random.default_rng((config.seed, SPLITS.index(split), i))
        pool = fonts if split == "train" or not unseen or i % 2 == 0 else unseen
        font = pool[int(rng.integers(len(pool)))]
        size = int(rng.integers(config.sizes[0], config.sizes[1] + 1))
        degrade = config.degrade * float(rng.uniform(0, 1)) if split == "train" else config.degrade
        image = render_line(text, files[font], size, degrade, rng)
        ink = 1.0 - np.asarray(image, dtype=np.float32) / 255.0
        out.add(to_columns(ink, height, max_width, f"{split}-{i:05d}"), text, f"{split}-{i:05d} {font}")
    return out


def generate_lines(config, height: int, max_width: int, splits: Sequence[str],
                   root: Optional[Path] = None) -> dict[str, ImageSplit]:
    """The requested splits of a `data.lines` config."""
    sizes = {"train": config.train_size, "valid": config.valid_size, "test": config.test_size}
    if config.texts:
        lines = text_lines([Path(root or ".") / t for t in config.texts], config.min_chars, config.max_chars)
    else:
        lines = random_strings(config.alphabet, sum(sizes.values()), config.min_chars, config.max_chars, config.seed)
    texts = split_lines(lines, sizes, config.seed)
    return {split: render_split(texts[split], config.fonts, config.unseen_fonts, split, config, height, max_width)
            for split in splits}


@lru_cache(maxsize=256)
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _uneven_light_and_noise(image, degrade: float, rng: np.random.Generator):
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float32) / 255.0
    rows, cols = pixels.shape
    ramp = np.linspace(0, 1, cols)[None, :] if rng.random() < 0.5 else np.linspace(0, 1, rows)[:, None]
    light = 1.0 - rng.uniform(0, 0.35) * degrade * (ramp if rng.random() < 0.5 else 1 - ramp)
    noisy = pixels * light + rng.normal(0, rng.uniform(0, 0.08) * degrade, pixels.shape)
    return Image.fromarray((np.clip(noisy, 0, 1) * 255).astype(np.uint8), mode="L")


def _jpeg(image, quality: int):
    from PIL import Image

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("L")
