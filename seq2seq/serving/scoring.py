"""`POST /score` for a language_model run: JSON texts in, each one's log-probability and perplexity out.

    curl -s localhost:8000/score -H 'content-type: application/json' -d '{"texts": ["the printing press"]}'
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from ..config import ServeSettings
from ..inference.lm_scorer import LanguageModelScorer
from .batcher import Batcher, Decode
from .routes import ERRORS, TaskRoutes


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(description="texts to score, one result per text, in order")


class ScoreOut(BaseModel):
    text: str
    log_prob: float = Field(description="natural-log probability of the text, EOS included")
    perplexity: float
    tokens: list[str]


class ScoreResponse(BaseModel):
    scores: list[ScoreOut]
    batched_with: int


def scoring(scorer: LanguageModelScorer) -> Decode:
    def decode(texts: list[str], options: tuple) -> list:
        return scorer.score(texts)
    return decode


def add_routes(app, scorer: LanguageModelScorer, batcher: Batcher, settings: ServeSettings, runs: list[str]) -> None:
    @app.post("/score", response_model=ScoreResponse, responses=ERRORS)
    async def score(request: ScoreRequest, http: Request) -> dict[str, Any]:
        http.state.texts = len(request.texts)
        long = [i for i, t in enumerate(request.texts) if len(t) > settings.max_chars]
        if len(request.texts) > settings.max_texts or long:
            raise HTTPException(status_code=422, detail=f"at most {settings.max_texts} texts (--max-texts) of at "
                                                        f"most {settings.max_chars:,} characters (--max-chars)")
        try:
            results, batched = await asyncio.wait_for(asyncio.shield(batcher.submit(request.texts, ())),
                                                      settings.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=504, detail=f"scoring took longer than this server's limit of "
                                                        f"{settings.timeout_s:g} s (--timeout)") from None
        out = [{"text": r.text, "log_prob": round(r.log_prob, 6), "perplexity": round(r.perplexity, 4),
                "tokens": r.tokens} for r in results]
        return {"scores": out, "batched_with": batched}


ROUTES = TaskRoutes("/score", "POST JSON texts to /score", add_routes, scoring)
