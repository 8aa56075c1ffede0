"""The encoder without packed sequences, for export: masks and in-length reversal instead of packing.

    memory = MaskedEncoder(model.encoder)(src, lengths)     # equal to model.encoder(src, lengths)

Packed sequences do not export to ONNX. Here every (layer, direction) of the trained (bi)RNN runs as its own
single-layer, one-direction RNN over the padded batch, with the trained weights:
- forward: an RNN is causal, so its states on a row's real positions never read the padding after them; the final
  state is the state at position length - 1;
- backward: each row is reversed within its length (position t < length reads length - 1 - t; padding stays where
  it is) by a gather, the forward RNN of the reverse weights runs over it, and the same gather puts its states back
  in place; the final state is the one at position 0.
States past a row's length are zeroed after every layer, as `pad_packed_sequence` leaves them; a residual layer
(`model.encoder.residual`) adds its input to them. Tests hold this equal to `Encoder` (states, mask, final state)
with padding rows in the batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .encoder import Encoder, Memory, lengths_mask


def _direction(rnn: nn.RNNBase, layer: int, suffix: str, input_size: int) -> nn.RNNBase:
    """One layer and direction of `rnn` as a single-layer, one-direction RNN with the same (copied) weights."""
    single = type(rnn)(input_size, rnn.hidden_size, num_layers=1, batch_first=True, bias=rnn.bias)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
            getattr(single, f"{name}_l0").copy_(getattr(rnn, f"{name}_l{layer}{suffix}"))
    return single


def in_length_reversal(lengths: Tensor, width: int) -> Tensor:
    """(batch, width) gather index reversing each row within its length: t < length → length - 1 - t, padding
    positions map to themselves. Applying it twice gives the identity."""
    t = torch.arange(width, device=lengths.device)[None, :]                  # (1, width)
    n = lengths[:, None]                                                      # (batch, 1)
    return torch.where(t < n, n - 1 - t, t)


def _gather_time(x: Tensor, index: Tensor) -> Tensor:
    # x (batch, width, size), index (batch, width) → x[b, index[b, t]] (batch, width, size)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.size(2)))


class MaskedEncoder(nn.Module):
    def __init__(self, encoder: Encoder):
        super().__init__()
        if len(encoder.pyramid):
            raise ValueError("the masked encoder has no pyramid layers (model.encoder.pyramid must be 0)")
        self.frontend = encoder.frontend
        self.is_lstm = isinstance(encoder.rnn, nn.LSTM)
        suffixes = ["", "_reverse"][: encoder.directions]
        stack = [(encoder.rnn, layer) for layer in range(encoder.rnn.num_layers)]
        stack += [(rnn, 0) for rnn in encoder.residual]
        self.layers = nn.ModuleList(
            nn.ModuleList(_direction(rnn, layer, s, rnn.input_size if layer == 0 else encoder.output_size)
                          for s in suffixes)
            for rnn, layer in stack)
        self.first_residual = encoder.rnn.num_layers                          # layers from here on add their input

    def _run(self, rnn: nn.RNNBase, x: Tensor) -> Tensor:
        # x (batch, width, input) → states (batch, width, hidden), from a zero initial state
        h0 = x.new_zeros(1, x.size(0), rnn.hidden_size)                       # (1, batch, hidden)
        out, _ = rnn(x, (h0, h0) if self.is_lstm else h0)
        return out

    def forward(self, src: Tensor, lengths: Tensor) -> Memory:
        # src (batch, src_len) ids; lengths (batch,) real positions, each >= 1
        x, lengths = self.frontend(src, lengths)                              # (batch, src_len, embedding)
        width = x.size(1)
        real = lengths_mask(lengths, width, x.device)                         # (batch, src_len)
        reverse = in_length_reversal(lengths.to(x.device), width)             # (batch, src_len)
        last = (lengths.to(x.device) - 1).clamp(min=0)[:, None]               # (batch, 1)
        finals: list[Tensor] = []
        for i, directions in enumerate(self.layers):
            outs, finals = [], []
            for d, rnn in enumerate(directions):
                if d == 0:
                    out = self._run(rnn, x)                                   # (batch, src_len, hidden)
                    finals.append(_gather_time(out, last).squeeze(1))        # (batch, hidden) at length - 1
                else:
                    out = _gather_time(self._run(rnn, _gather_time(x, reverse)), reverse)
                    finals.append(out[:, 0])                                  # (batch, hidden) after reading t = 0
                outs.append(out)
            states = torch.cat(outs, -1) * real[:, :, None].to(x.dtype)       # (batch, src_len, directions*hidden)
            x = x + states if i >= self.first_residual else states
        return Memory(x, real, torch.cat(finals, -1))                         # final (batch, directions*hidden)
