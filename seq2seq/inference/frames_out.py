"""What the predictors that write text from frames share (`Transcriber`: log-mel frames, `Reader`: image columns):
one search call over normalised frames, and a hypothesis as (text, score, tokens, attention)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch

from ..errors import UserError
from ..search import Hypothesis, search_options
from .loading import Run


def best_hypotheses(run: Run, frames: Sequence[torch.Tensor], beam_size: Optional[int] = None,
                    batch_size: Optional[int] = None, **search: Any) -> list[Optional[Hypothesis]]:
    """The best hypothesis of each input (None for an empty one) from the task's one search, attention kept;
    a bad search option is a `UserError`."""
    dec = run.config.decode
    try:
        opts = search_options(dec, beam_size=beam_size, **{"attention": True, **search})
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from None
    lm = run.language_model(opts, run.vocab.text)
    return [h[0] if h else None
            for h in run.task.decode(run.model, list(frames), opts, batch_size or dec.batch_size, lm=lm)]


def text_of(run: Run, hyp: Optional[Hypothesis]) -> tuple[str, float, list[str], Optional[np.ndarray]]:
    """(text, score, output pieces ending in "</s>" when the model stopped itself, attention or None)."""
    if hyp is None:
        return "", 0.0, [], None
    tokens = run.vocab.text.pieces(hyp.tokens) + (["</s>"] if hyp.finished else [])
    attention = None if hyp.attention is None else hyp.attention.numpy()
    return run.vocab.text.decode(hyp.tokens), hyp.score, tokens, attention
