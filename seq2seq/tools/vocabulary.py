"""A run's vocabularies as its model sees them, for `seq2seq vocab`: each text side's pieces with their ids (special
symbols marked), and how a sentence is cut into pieces and ids (symbols the vocabulary lacks become <unk>).

Pieces that hold spaces or invisible characters (a character vocabulary's " ") are shown as JSON strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from .. import checkpoint as ckpt
from ..data.text.tokenizers import EOS, UNK, PhonemeTokenizer, SentencePieceTokenizer, SymbolTokenizer, Tokenizer
from ..errors import UserError

SIDE_NAMES = {"src": "source", "tgt": "target"}


@dataclass
class TextSide:
    label: str                # "source", "target", "source and target (joint)", "target (joint)", ...
    tokenizer: Tokenizer


def text_sides(run_dir: Path, side: Optional[str] = None) -> list[TextSide]:
    """The text sides of a run (`side`: only "src" or "tgt"); a joint vocabulary asked for both sides is one."""
    from ..tasks import get_task

    config = ckpt.read_config(run_dir)
    task, sides = config.task, get_task(config).text_sides    # frames tasks save their one text tokenizer as joint
    if side is not None and side not in sides:
        raise UserError(f"{run_dir}: the {SIDE_NAMES[side]} side of a {task} run is feature frames, not text "
                        f"(its text side: --side {sides[0]})")
    tokenizers = dict(zip(("src", "tgt"), ckpt.tokenizers_of(run_dir)))
    joint = len(sides) == 2 and tokenizers["src"] is tokenizers["tgt"]
    if joint and side is None:
        return [TextSide("source and target (joint)", tokenizers["src"])]
    return [TextSide(SIDE_NAMES[s] + (" (joint)" if joint else ""), tokenizers[s]) for s in ([side] if side else sides)]


def kind(tokenizer: Tokenizer) -> str:
    """What kind of pieces a tokenizer makes, in words."""
    if isinstance(tokenizer, SentencePieceTokenizer):
        return "sentencepiece subwords"
    if isinstance(tokenizer, SymbolTokenizer):
        return "characters" if tokenizer.level == "char" else "whitespace-separated words"
    if isinstance(tokenizer, PhonemeTokenizer):
        return "ARPAbet phonemes" + (", unknown words through its G2P model" if tokenizer.g2p_run else "")
    return type(tokenizer).__name__


def show(piece: str) -> str:
    """A piece as printed: as is, or as a JSON string when it holds spaces or invisible characters."""
    plain = bool(piece) and piece.isprintable() and not any(c.isspace() for c in piece)
    return piece if plain else json.dumps(piece, ensure_ascii=False)


# ---- the vocabulary -----------------------------------------------------------------------------------------

def describe_vocab(side: TextSide, limit: Optional[int] = None) -> str:
    """A header with the size, then one `id  piece` line per entry (the first `limit`), specials marked."""
    tok = side.tokenizer
    if limit is not None and limit < 0:
        raise UserError(f"--limit {limit}: must be >= 0")
    ids = list(range(tok.vocab_size if limit is None else min(limit, tok.vocab_size)))
    width = len(str(max(0, tok.vocab_size - 1)))
    pieces = [show(p) for p in tok.pieces(ids)]
    column = max(map(len, pieces), default=0)
    lines = [f"{side.label}: {tok.vocab_size:,} pieces ({kind(tok)})"]
    lines += [(f"{i:>{width}}  {p:<{column}}  (special)" if i <= EOS else f"{i:>{width}}  {p}")
              for i, p in zip(ids, pieces)]
    if len(ids) < tok.vocab_size:
        lines.append(f"... {tok.vocab_size - len(ids):,} more")
    return "\n".join(lines)


# ---- segmentation -------------------------------------------------------------------------------------------

@dataclass
class Segmentation:
    label: str
    pieces: list[str]         # what the model reads or writes, <unk> included
    ids: list[int]
    unknown: list[str]        # symbols of the text this vocabulary lacks: they became <unk>


def segment(side: TextSide, text: str) -> Segmentation:
    ids = side.tokenizer.encode(text)
    return Segmentation(side.label, side.tokenizer.pieces(ids), ids, side.tokenizer.unknown(text))


def describe_segmentation(sides: Sequence[TextSide], text: str) -> str:
    """The text (as a JSON string), then for each side its segmentation (`segmentation_lines`)."""
    return "\n".join([json.dumps(text, ensure_ascii=False)] + [line for side in sides
                                                               for line in segmentation_lines(segment(side, text))])


def segmentation_lines(s: Segmentation) -> list[str]:
    """A header, the pieces over their ids (aligned; a piece that is <unk> is marked `!`), and the symbols of the
    text that became <unk>."""
    unknown = s.ids.count(UNK)
    cells = [(show(p) + ("!" if i == UNK else ""), str(i)) for p, i in zip(s.pieces, s.ids)]
    widths = [max(len(piece), len(i)) for piece, i in cells]
    lines = [f"{s.label}: {len(s.ids)} piece{'' if len(s.ids) == 1 else 's'}"
             + (f", {unknown} unknown (<unk>!)" if unknown else "")]
    if cells:
        lines += ["  piece  " + "  ".join(piece.ljust(w) for (piece, _), w in zip(cells, widths)).rstrip(),
                  "  id     " + "  ".join(i.ljust(w) for (_, i), w in zip(cells, widths)).rstrip()]
    if s.unknown:
        lines.append("  not in the vocabulary: " + " ".join(show(u) for u in s.unknown))
    return lines
