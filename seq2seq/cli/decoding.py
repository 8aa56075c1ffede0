"""Decoding flags: validated with the config's own rules before any model is loaded, errors naming the flag."""

from __future__ import annotations

import argparse

from ..errors import UserError

_DECODE_FLAGS = {"batch_size": "--batch-size", "beam_size": "--beam-size", "n_best": "--n-best", "alpha": "--alpha",
                 "beta": "--beta", "max_len_a": "--max-len-ratio", "max_len": "--max-len", "min_len": "--min-len",
                 "no_repeat_ngram": "--no-repeat-ngram", "ctc_weight": "--ctc-weight", "ctc_greedy": "--ctc-greedy",
                 "lm": "--lm", "lm_weight": "--lm-weight"}


def check_decode_flags(values: dict) -> None:
    """Validate decoding flags with the config's own rules (`DecodeConfig`, `SearchOptions`); errors name the flag."""
    from pydantic import ValidationError

    from ..config import DecodeConfig
    from ..search import SearchOptions, describe_invalid

    given = {k: v for k, v in values.items() if v is not None}
    try:
        DecodeConfig(**{k: v for k, v in given.items() if k in DecodeConfig.model_fields})
        n_best = given.get("n_best", 1)
        SearchOptions(n_best=n_best, beam_size=max(n_best, given.get("beam_size", 1)))   # the beam widens to n_best
    except ValidationError as exc:
        raise UserError(describe_invalid(exc, _DECODE_FLAGS)) from None


def search_flags(args: argparse.Namespace, n_best: int = 1) -> dict:
    """The decoding flags given, validated (before any model is loaded), as keyword arguments of search."""
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads {args.threads}: must be >= 1")
    search = dict(beam_size=args.beam_size, alpha=args.alpha, beta=args.beta, max_len_a=args.max_len_a,
                  max_len=args.max_len, min_len=args.min_len, no_repeat_ngram=args.no_repeat_ngram,
                  greedy_fallback=args.greedy_fallback, precision=args.precision,
                  ctc_weight=getattr(args, "ctc_weight", None), ctc_greedy=getattr(args, "ctc_greedy", None) or None,
                  lm=_run_path(getattr(args, "lm", None)), lm_weight=getattr(args, "lm_weight", None))
    check_decode_flags({**search, "n_best": n_best, "batch_size": args.batch_size})
    return {k: v for k, v in search.items() if v is not None}


def _run_path(path):
    """--lm RUN_DIR as an absolute path (the loaded model is looked up by it)."""
    from pathlib import Path

    return None if path is None else str(Path(path).resolve())


def set_threads(args: argparse.Namespace) -> None:
    """--threads, where given: PyTorch's CPU threads."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
