"""Search defaults (`decode`) and the HTTP server's limits (`seq2seq serve` flags)."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from .base import Precision, Strict


class SearchSettings(Strict):
    """How search decodes: the `decode` section's search fields (`search.SearchOptions` adds per-call choices)."""

    max_len_a: float = Field(1.5, ge=0, description="output limit = a * source length + b, the source length in "
                                                    "encoder states (speech: frames / frontend.stack / "
                                                    "2^encoder.pyramid)")
    max_len_b: int = Field(10, ge=1, description="output limit: max_len_a × source length + max_len_b tokens")
    beam_size: int = Field(1, ge=1, description="1 = greedy search (validation always decodes greedily)")
    alpha: float = Field(0.0, ge=0, description="beam search: GNMT length normalisation ((5+len)/6)^alpha; 0 = off")
    beta: float = Field(0.0, ge=0, description="beam search: GNMT coverage penalty weight; 0 = off")
    max_len: Optional[int] = Field(None, gt=0, description="absolute output limit (EOS included), on top of a/b")
    min_len: int = Field(0, ge=0, description="EOS is forbidden before this many output tokens")
    no_repeat_ngram: int = Field(0, ge=0, description="forbid repeating any n-gram of this size in one output; 0 = off")
    greedy_fallback: bool = Field(True, description="beam search also follows the greedy path and keeps it when it "
                                                    "ranks higher (beam never worse than greedy; ~1/beam more work)")
    precision: Precision = Field(
        "fp32", description="bf16: decode with the matrix products in bfloat16 (scores stay fp32); faster on CPUs "
                            "with AVX-512 BF16, same BLEU within noise")
    ctc_weight: float = Field(0.0, ge=0, le=1, description="joint CTC/attention search λ (speech and images, a model "
                                                           "trained with model.ctc_weight): each step scores "
                                                           "(1 − λ)·attention + λ·CTC prefix log-probability; 0 = "
                                                           "attention alone, 1 = CTC prefix search alone; the output "
                                                           "limit is then at least one token per encoder state "
                                                           "(CTC's own bound)")
    ctc_greedy: bool = Field(False, description="CTC's best path alone (the argmax of each encoder state, repeats "
                                                "merged, blanks dropped): no attention decoder, no beam")
    lm: Optional[str] = Field(None, description="a language_model run directory (same tokenizer as this run) for "
                                                "shallow fusion with lm_weight")
    lm_weight: float = Field(0.0, ge=0, description="shallow fusion β: each step adds β·log P_LM(token) of the "
                                                    "decode.lm language model; 0 = off")


class DecodeConfig(SearchSettings):
    batch_size: int = Field(64, gt=0, description="sentences per decoding batch")


class ServeSettings(Strict):
    """`seq2seq serve`: batching and the limits that protect the server (each is a command-line option)."""

    batching: bool = Field(True, description="merge concurrent requests into batches")
    max_batch_size: int = Field(64, ge=1, description="sentences decoded together at most")
    max_wait_ms: float = Field(5.0, ge=0, description="how long a request waits for others to join its batch")
    max_texts: int = Field(64, ge=1, description="texts per request")
    max_chars: int = Field(2000, ge=1, description="characters per text")
    max_beam: int = Field(10, ge=1, description="largest beam_size (and n_best) a request may ask for")
    max_body_bytes: int = Field(1_000_000, ge=1, description="request body size")
    body_timeout_s: float = Field(10.0, gt=0, description="a request body that stalls this long between two "
                                                          "pieces gets 408")
    timeout_s: float = Field(30.0, gt=0, description="a request that waits longer gets 504")
