"""Word dropout: in training, each token's whole embedding vector is dropped with probability p.

    x = word_dropout(embedding(ids))       # (batch, len, embedding): whole rows zeroed, the rest scaled by 1/(1-p)

Ordinary dropout zeroes single features, so every token still reaches the model; word dropout removes tokens, so
the model must get along without any one word — the encoder from its context, the decoder without the reference's
previous token to lean on (Gal & Ghahramani 2016; Sennrich & Zhang 2019 found it among the settings that pay most
on small data). One mask value per position, shared by the whole vector; the kept rows are scaled so the expected
input is unchanged. A no-op at inference (`model.eval()`), so search, export and serving never see it; PAD rows are
zero before and after.
"""

from __future__ import annotations

from torch import Tensor, nn


class WordDropout(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"word dropout must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = x.new_empty(x.shape[:-1] + (1,)).bernoulli_(1 - self.p)   # (..., 1): one draw per token
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"
