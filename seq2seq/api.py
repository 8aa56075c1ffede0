"""Python API: load a run directory and translate a list of strings.

    from seq2seq import load
    translator = load("runs/demo")
    [r] = translator.translate(["Thursday, 25th of June 2009"])
    r.text, r.score, r.tokens, r.src_tokens, r.attention   # attention: (len(tokens), len(src_tokens)) or None
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .checkpoint import load_run
from .config import Config
from .data.tokenizers import Tokenizer
from .search import decode_all


@dataclass
class Translation:
    text: str                        # detokenized output
    score: float                     # log-probability of the output (sum over tokens, EOS included)
    tokens: list[str]                # output pieces; ends with "</s>" when the model stopped by itself
    src_tokens: list[str]            # source pieces as the model saw them (after truncation)
    attention: Optional[np.ndarray]  # (len(tokens), len(src_tokens)) weights, rows sum to 1; None for vanilla
    truncated: bool = False          # the source was longer than model.max_src_len and was cut


class Translator:
    def __init__(self, config: Config, model, src_tokenizer: Tokenizer, tgt_tokenizer: Tokenizer,
                 device: str = "cpu"):
        self.config, self.model = config, model
        self.src_tokenizer, self.tgt_tokenizer = src_tokenizer, tgt_tokenizer
        self.device = device

    @classmethod
    def load(cls, run_dir: str | Path, which: str = "best", device: str = "cpu") -> "Translator":
        config, model, src_tok, tgt_tok = load_run(run_dir, which, device)
        return cls(config, model, src_tok, tgt_tok, device)

    def translate(self, texts: list[str], batch_size: Optional[int] = None, beam_size: Optional[int] = None,
                  alpha: Optional[float] = None, warn: Optional[Callable[[str], None]] = None) -> list[Translation]:
        """One `Translation` per input string, in order. Empty input gives empty output.

        beam_size / alpha: override the run's decode settings (beam 1 = greedy).
        warn: called with a message for each input longer than the model's limit (it is truncated).
        """
        return [n[0] for n in self.translate_n_best(texts, 1, batch_size, beam_size, alpha, warn)]

    def translate_n_best(self, texts: list[str], n_best: int, batch_size: Optional[int] = None,
                         beam_size: Optional[int] = None, alpha: Optional[float] = None,
                         warn: Optional[Callable[[str], None]] = None) -> list[list[Translation]]:
        """Up to `n_best` translations per input (best first; the beam is widened to n_best if narrower).
        An empty input gets one empty translation."""
        limit = self.config.model.max_src_len
        sources, truncated = [], []
        for number, text in enumerate(texts, start=1):
            ids = self.src_tokenizer.encode(text) if text.strip() else []
            cut = len(ids) > limit
            if cut:
                if warn:
                    warn(f"line {number}: {len(ids)} source tokens, truncated to the model's limit of {limit} "
                         f"(model.max_src_len)")
                ids = ids[:limit]
            sources.append(ids)
            truncated.append(cut)
        dec = self.config.decode
        beam = max(beam_size or dec.beam_size, n_best)
        nbest = decode_all(self.model, sources, batch_size=batch_size or dec.batch_size, max_len_a=dec.max_len_a,
                           max_len_b=dec.max_len_b, beam_size=beam, alpha=dec.alpha if alpha is None else alpha,
                           n_best=n_best, device=self.device)
        out = []
        for ids, hyps, cut in zip(sources, nbest, truncated):
            if not hyps:
                empty = None if not self.has_attention else np.zeros((0, 0))
                out.append([Translation("", 0.0, [], [], empty, cut)])
                continue
            src_pieces = self.src_tokenizer.pieces(ids)
            out.append([Translation(self.tgt_tokenizer.decode(h.tokens), h.score,
                                    self.tgt_tokenizer.pieces(h.tokens) + (["</s>"] if h.finished else []),
                                    src_pieces, None if h.attention is None else h.attention.numpy(), cut)
                        for h in hyps])
        return out

    @property
    def has_attention(self) -> bool:
        return self.model.decoder.has_attention
