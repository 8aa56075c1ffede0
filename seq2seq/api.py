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
        hyps = decode_all(self.model, sources, batch_size=batch_size or dec.batch_size, max_len_a=dec.max_len_a,
                          max_len_b=dec.max_len_b, beam_size=beam_size or dec.beam_size,
                          alpha=dec.alpha if alpha is None else alpha, device=self.device)
        out = []
        for ids, hyp, cut in zip(sources, hyps, truncated):
            if hyp is None:
                out.append(Translation("", 0.0, [], [], None if not self.has_attention else np.zeros((0, 0)), cut))
                continue
            tokens = self.tgt_tokenizer.pieces(hyp.tokens) + (["</s>"] if hyp.finished else [])
            attention = None if hyp.attention is None else hyp.attention.numpy()
            out.append(Translation(self.tgt_tokenizer.decode(hyp.tokens), hyp.score, tokens,
                                   self.src_tokenizer.pieces(ids), attention, cut))
        return out

    @property
    def has_attention(self) -> bool:
        return self.model.decoder.has_attention
