"""What one search call runs with: the run's `decode` settings plus the call's choices, validated once."""

from __future__ import annotations

from pydantic import ConfigDict, Field, ValidationError, model_validator

from ..config import SearchSettings, describe_invalid


class SearchOptions(SearchSettings):
    """The `decode` section's search settings plus what each call chooses; validated once, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_best: int = Field(1, ge=1, description="hypotheses returned per input (<= beam_size)")
    attention: bool = Field(True, description="keep each hypothesis's attention matrix (always kept when beta > 0)")
    stop_early: bool = Field(True, description="beam: a sentence also stops once no live beam can outrank its n-best")

    @model_validator(mode="after")
    def _n_best(self) -> "SearchOptions":
        if self.n_best > self.beam_size:
            raise ValueError(f"n_best ({self.n_best}) cannot exceed beam_size ({self.beam_size})")
        return self


def search_options(decode: SearchSettings, **overrides) -> SearchOptions:
    """SearchOptions from a `DecodeConfig`, with keyword overrides (None values keep the config's); the beam is
    widened to n_best. A bad value raises ValueError naming the option, the value and what is allowed."""
    unknown = set(overrides) - set(SearchOptions.model_fields)
    if unknown:
        raise TypeError(f"unknown search option(s): {', '.join(sorted(unknown))}")
    fields = decode.model_dump(include=set(SearchSettings.model_fields))
    fields.update({k: v for k, v in overrides.items() if v is not None})
    fields["beam_size"] = max(fields["beam_size"], fields.get("n_best", 1))
    try:
        return SearchOptions(**fields)
    except ValidationError as exc:
        raise ValueError(describe_invalid(exc)) from None


def validation_options(decode: SearchSettings, **overrides) -> SearchOptions:
    """Greedy search under the run's `decode` settings without its language model (training loads none): what
    validation and its pictures decode with."""
    return search_options(decode, beam_size=1, lm_weight=0.0, **overrides)
