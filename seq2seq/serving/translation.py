"""`POST /translate` for a translation run: JSON texts in, translations (n-best, tokens, attention) out.

    curl -s localhost:8000/translate -H 'content-type: application/json' \\
         -d '{"texts": ["Ein Mann fährt Fahrrad."], "beam_size": 5, "attention": true}'
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from ..config import ServeSettings
from ..errors import UserError
from ..inference.translator import Translation, Translator
from .batcher import Batcher, Decode
from .routes import ERRORS, TaskRoutes


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(description="sentences to translate, one output per text, in order")
    beam_size: Optional[int] = Field(None, ge=1, description="1 = greedy; default: the run's decode.beam_size")
    n_best: int = Field(1, ge=1, description="hypotheses per text (the beam is widened to n_best if narrower)")
    attention: bool = Field(False, description="also return tokens and the attention matrix of the best hypothesis")


class Hypothesis(BaseModel):
    text: str
    score: float = Field(description="log-probability of the output, EOS included")


class TranslationOut(BaseModel):
    text: str = Field(description="the best translation")
    score: float
    n_best: list[Hypothesis]
    src_tokens: Optional[list[str]] = None
    tgt_tokens: Optional[list[str]] = None
    attention: Optional[list[list[float]]] = Field(
        None, description="one row per target token (EOS included), one column per source token; rows sum to 1")
    truncated: bool = Field(False, description="the source was longer than the model's limit and was cut")


class TranslateResponse(BaseModel):
    translations: list[TranslationOut]
    beam_size: int
    batched_with: int = Field(description="sentences decoded in the same batch as this request's (itself included)")


def translating(translator: Translator) -> Decode:
    """Decode texts with options (beam_size, n_best, attention) into n-best lists of `Translation`s."""
    def decode(texts: list[str], options: tuple[int, int, bool]) -> list[list[Translation]]:
        beam, n_best, attention = options
        return translator.translate_n_best(texts, n_best, batch_size=len(texts), beam_size=beam, attention=attention)
    return decode


def add_routes(app, translator: Translator, batcher: Batcher, settings: ServeSettings,
                        runs: list[str]) -> None:
    default_beam = translator.config.decode.beam_size

    @app.post("/translate", response_model=TranslateResponse, response_model_exclude_none=True, responses=ERRORS)
    async def translate(request: TranslateRequest, http: Request) -> dict[str, Any]:
        http.state.texts = len(request.texts)            # for the request log
        beam = request.beam_size or default_beam
        problems = _over_limits(request, beam, settings)
        if problems:
            raise HTTPException(status_code=422, detail="; ".join(problems))
        wants_attention = request.attention and translator.has_attention
        try:
            results, batched = await asyncio.wait_for(
                asyncio.shield(batcher.submit(request.texts, (beam, request.n_best, request.attention))),
                settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"translation took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        except UserError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        out = [_reply_item(hyps, request.attention, wants_attention) for hyps in results]
        return {"translations": out, "beam_size": beam, "batched_with": batched}



def _over_limits(request: TranslateRequest, beam: int, settings: ServeSettings) -> list[str]:
    """What in a request exceeds this server's limits, one phrase each naming the limit's option."""
    problems = []
    if len(request.texts) > settings.max_texts:
        problems.append(f"texts: {len(request.texts)} texts; this server takes at most {settings.max_texts} per "
                        f"request (--max-texts)")
    for i, text in enumerate(request.texts):
        if len(text) > settings.max_chars:
            problems.append(f"texts[{i}]: {len(text):,} characters; at most {settings.max_chars:,} per text "
                            f"(--max-chars)")
            break
    for name, value in (("beam_size", beam), ("n_best", request.n_best)):   # n_best widens the beam
        if value > settings.max_beam:
            problems.append(f"{name}: {value}; at most {settings.max_beam} (--max-beam)")
    return problems


def _reply_item(hyps: list, tokens: bool, attention: bool) -> dict[str, Any]:
    """One input's reply: the best translation, its n-best list, and (asked for) tokens and attention."""
    best = hyps[0]
    item = {"text": best.text, "score": round(best.score, 6), "truncated": best.truncated,
            "n_best": [{"text": h.text, "score": round(h.score, 6)} for h in hyps]}
    if tokens:
        item["src_tokens"], item["tgt_tokens"] = best.src_tokens, best.tokens
        if attention and best.attention is not None:
            item["attention"] = [[round(float(w), 5) for w in row] for row in best.attention]
    return item


ROUTES = TaskRoutes("/translate", "POST JSON texts to /translate", add_routes, translating)
