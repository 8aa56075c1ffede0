"""What search decodes with: one model, or several sharing a vocabulary, seen as one next-token distribution.

    ensemble = Ensemble([model_a, model_b])
    states = ensemble.start(src, src_lengths)                 # encoders run once
    logp, states, attention = ensemble.step(y_prev, states)   # (rows, vocab), ..., (rows, src_len) or None
    states = ensemble.select(states, rows)                    # beams, finished sentences leaving

Each member runs its own `Decoder.step` (the single truth used in training); the ensemble's log-probability of a
token is the mean of the members' log-probabilities (a normalised geometric mean would only shift every candidate
of a step by the same constant). The attention it reports is the mean over members that have attention.
The token head masks padding and BOS before the softmax: an undertrained model would otherwise emit them.

Search reads only the `Decodable` protocol below, so another backend with the same methods (the onnxruntime
model of `onnx_runtime.py`, whose state is flat named arrays) runs through the very same search code.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional, Protocol, Sequence

import torch
from torch import Tensor

from ..model.decoder import DecoderState
from ..model.encoder import Memory
from ..model.seq2seq import Seq2Seq

State = list[tuple[Memory, DecoderState]]   # per member: its encoder memory and decoder state


class Decodable(Protocol):
    """What search decodes through; `states` are whatever `start` returns (the backend's own)."""

    has_attention: bool
    reduction: int        # input positions per encoder state: output limits follow encoder states

    def start(self, src: Tensor, src_lengths: Tensor) -> Any: ...

    def step(self, y_prev: Tensor, states: Any) -> tuple[Tensor, Any, Optional[Tensor]]: ...

    def memory_lengths(self, states: Any) -> list[int]: ...

    def select(self, states: Any, rows: Tensor) -> Any: ...

    def select_decoder(self, states: Any, rows: Tensor) -> Any: ...

    def evaluating(self) -> Any: ...   # a context manager: inference mode inside, the previous mode restored after


class Ensemble:
    def __init__(self, models: Sequence[Seq2Seq]):
        if not models:
            raise ValueError("an ensemble needs at least one model")
        vocab = {m.head.vocab_size for m in models}
        if len(vocab) != 1:
            raise ValueError(f"ensemble members have different target vocabularies: {sorted(vocab)}")
        self.models = list(models)

    @property
    def has_attention(self) -> bool:
        return any(m.decoder.has_attention for m in self.models)

    def start(self, src: Tensor, src_lengths: Tensor) -> State:
        states = []
        for model in self.models:
            memory = model.decoder.prepare(model.encode(src, src_lengths))
            states.append((memory, model.decoder.init_state(memory)))
        return states

    def step(self, y_prev: Tensor, states: State) -> tuple[Tensor, State, Optional[Tensor]]:
        """y_prev (rows,) → mean log-probabilities (rows, vocab), new states, attention (rows, src_len) or None."""
        logps, attentions, new_states = [], [], []
        for model, (memory, state) in zip(self.models, states):
            out, state, weights = model.decoder.step(y_prev, state, memory)
            logps.append(model.head.log_probs(out))                                # (rows, vocab), fp32
            if weights is not None:
                attentions.append(weights)                                         # (rows, src_len), fp32
            new_states.append((memory, state))
        if len(logps) == 1:
            return logps[0], new_states, attentions[0] if attentions else None
        logp = torch.stack(logps).mean(0)
        attention = torch.stack(attentions).mean(0) if attentions else None
        return logp, new_states, attention

    @staticmethod
    def memory_lengths(states: State) -> list[int]:
        """Real encoder positions per row (the first member's memory: members share the input)."""
        return states[0][0].lengths.tolist()

    @staticmethod
    def select(states: State, rows: Tensor) -> State:
        return [(memory.select(rows), state.select(rows)) for memory, state in states]

    @staticmethod
    def select_decoder(states: State, rows: Tensor) -> State:
        """Reorder the decoder states only; valid when every row keeps the same encoder memory (rows moving among
        the beams of one sentence)."""
        return [(memory, state.select(rows)) for memory, state in states]

    @property
    def reduction(self) -> int:
        """Input positions per encoder state (the first member's: members share the input)."""
        return self.models[0].encoder.reduction

    def eval(self) -> "Ensemble":
        for model in self.models:
            model.eval()
        return self

    @contextmanager
    def evaluating(self) -> Iterator["Ensemble"]:
        """Eval mode inside the block; each member's previous mode restored after it."""
        modes = [m.training for m in self.models]
        self.eval()
        try:
            yield self
        finally:
            for model, mode in zip(self.models, modes):
                model.train(mode)
