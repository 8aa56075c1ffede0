"""Output heads: the decoder's output side — what it reads back as its next input, what it predicts, the loss.

    emb = head.embed(y_prev)               # the previous output as the decoder's input vector (batch, embedding)
    y = head.feedback(out)                 # the model's own next input from a decoder output (no gradient)
    loss = head.loss(outputs, batch)       # summed over real target positions (divide by batch.n_tokens)

- `TokenHead`: token ids; a target embedding (optional word dropout in training), the vocabulary projection
  (`generator`, optionally tied to the embedding), label-smoothed cross-entropy; `log_probs` masks PAD and BOS, so
  search never generates them; argmax feedback (scheduled sampling).
- `FrameHead`: feature frames (e.g. mel frames); the previous frame goes through a prenet (two ReLU layers whose
  dropout stays on at inference, as in Tacotron) and each decoder step writes `reduction` frames plus one stop
  logit; L1 (+ MSE) on real frames + BCE on the stop flag with a positive weight; the last predicted frame of a
  step is fed back. An optional residual postnet (Tacotron 2: 1-D convolutions over the whole predicted
  spectrogram) refines the frames once they are all written — `refine`; its frames get the same L1 (+ MSE) loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.text.tokenizers import BOS, PAD
from .encoder import masked_conv
from .word_dropout import WordDropout

if TYPE_CHECKING:
    from ..data.batching import Batch

NEVER_OUTPUT = [PAD, BOS]   # ids search never generates (their probability goes to the rest)


@runtime_checkable
class Head(Protocol):
    """What the decoder, `Seq2Seq` and training ask of every head."""

    embedding_size: int               # the size of `embed`'s vectors (the decoder's input)

    def embed(self, y_prev: Tensor) -> Tensor:
        """The previous outputs as decoder inputs: (batch,) ids or (batch, frame) → (batch, embedding_size);
        (batch, steps, ...) → (batch, steps, embedding_size) in teacher forcing."""
        ...

    def predict(self, out: Tensor):
        """What the decoder outputs (batch, [steps,] output_size) predict: logits, or (frames, stop logits)."""
        ...

    def feedback(self, out: Tensor) -> Tensor:
        """The model's own next input from one step's outputs (no gradient): scheduled sampling, generation."""
        ...

    def loss(self, outputs: Tensor, batch: "Batch", label_smoothing: float = 0.0) -> Tensor:
        """The training loss of teacher-forced outputs, summed over real target positions."""
        ...


@runtime_checkable
class TokenWriter(Head, Protocol):
    """A head that writes tokens: what token search (`search/`), the ensemble, CTC and export also ask."""

    vocab_size: int

    def log_probs(self, out: Tensor) -> Tensor:
        """(rows, vocab) log-probabilities of the next token; never PAD or BOS."""
        ...


@runtime_checkable
class FrameWriter(Head, Protocol):
    """A head that writes frames: what frame generation (`search/frames.py`) and TTS validation also ask."""

    frame_size: int
    reduction: int

    def refine(self, frames: Tensor, frame_mask: Tensor) -> Tensor:
        """The whole predicted spectrogram (batch, frames, frame_size) after any postnet."""
        ...


class TokenHead(nn.Module):

    def __init__(self, vocab_size: int, embedding_size: int, output_size: int, dropout: float,
                 tie_embeddings: bool = False, label_smoothing: float = 0.0, word_dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.word_dropout = WordDropout(word_dropout)             # training only: whole previous tokens dropped
        self.dropout = nn.Dropout(dropout)
        self.generator = nn.Linear(output_size, vocab_size)
        if tie_embeddings:
            if output_size != embedding_size:
                raise ValueError(f"tie_embeddings needs output size {output_size} == embedding size {embedding_size}")
            self.generator.weight = self.embedding.weight
        self.embedding_size = embedding_size
        self.vocab_size = vocab_size

    def embed(self, ids: Tensor) -> Tensor:
        return self.dropout(self.word_dropout(self.embedding(ids)))   # (..., embedding)

    def predict(self, out: Tensor) -> Tensor:
        return self.generator(out)                                # (..., vocab) logits

    def log_probs(self, out: Tensor) -> Tensor:
        """(rows, vocab) fp32 log-probabilities for search; PAD and BOS are inputs only, never generated."""
        logits = self.generator(out).float()                      # fp32 under bf16
        for never in NEVER_OUTPUT:                                # two column writes: no index tensor per step
            logits[:, never] = float("-inf")
        return torch.log_softmax(logits, dim=-1)

    def feedback(self, out: Tensor) -> Tensor:
        return self.generator(out).argmax(-1)                     # (batch,) the model's guess

    def loss(self, outputs: Tensor, batch: "Batch", label_smoothing: float = 0.0) -> Tensor:
        # the output layer and softmax only on real positions: padding never costs a vocabulary-sized row
        logits = self.generator(outputs[batch.tgt_mask]).float()  # (n_tokens, vocab), fp32 under bf16
        return F.cross_entropy(logits, batch.tgt_out[batch.tgt_mask], reduction="sum",
                               label_smoothing=label_smoothing)


class Postnet(nn.Module):
    """Residual 1-D convolutions over a spectrogram: frames + conv stack(frames), padding zeroed before each layer
    (so a clip refines the same alone or padded); LayerNorm over channels, tanh between layers."""

    def __init__(self, frame_size: int, channels: int, layers: int, kernel: int = 5):
        super().__init__()
        sizes = [frame_size] + [channels] * (layers - 1) + [frame_size]
        self.convs = nn.ModuleList(nn.Conv1d(a, b, kernel, padding=kernel // 2) for a, b in zip(sizes, sizes[1:]))
        self.norms = nn.ModuleList(nn.LayerNorm(b) for b in sizes[1:-1])

    def forward(self, frames: Tensor, real: Tensor) -> Tensor:
        # frames (batch, n_frames, frame); real (batch, n_frames, 1) 1.0 on real frames
        x = frames
        for i, conv in enumerate(self.convs):
            x = masked_conv(conv, x, real)                                    # (batch, n_frames, channels)
            if i < len(self.norms):
                x = torch.tanh(self.norms[i](x))
        return (frames + x) * real


class FrameHead(nn.Module):
    def __init__(self, frame_size: int, embedding_size: int, output_size: int, reduction: int = 2,
                 prenet_size: int = 128, prenet_dropout: float = 0.5, stop_weight: float = 5.0, mse: bool = True,
                 postnet_layers: int = 0, postnet_channels: int = 256):
        super().__init__()
        if reduction < 1:
            raise ValueError(f"reduction factor must be >= 1, got {reduction}")
        self.frame_size, self.reduction = frame_size, reduction
        self.prenet = nn.ModuleList([nn.Linear(frame_size, prenet_size), nn.Linear(prenet_size, embedding_size)])
        self.prenet_dropout = prenet_dropout
        self.frames = nn.Linear(output_size, reduction * frame_size)
        self.stop = nn.Linear(output_size, 1)
        self.stop_weight, self.mse = stop_weight, mse
        self.embedding_size = embedding_size
        self.postnet = Postnet(frame_size, postnet_channels, postnet_layers) if postnet_layers else None

    def embed(self, frame: Tensor) -> Tensor:
        # frame (..., frame_size) → (..., embedding); dropout on at inference too: it is what makes Tacotron's
        # prenet a bottleneck that forces the attention to carry the content
        x = frame
        for layer in self.prenet:
            x = F.dropout(F.relu(layer(x)), self.prenet_dropout, training=True)
        return x

    def predict(self, out: Tensor) -> tuple[Tensor, Tensor]:
        """out (..., output) → frames (..., reduction, frame_size), stop logit (...,)."""
        frames = self.frames(out).float()
        return frames.unflatten(-1, (self.reduction, self.frame_size)), self.stop(out).float().squeeze(-1)

    def feedback(self, out: Tensor) -> Tensor:
        return self.predict(out)[0][..., -1, :].detach()          # (batch, frame_size) the last frame of the step

    def refine(self, frames: Tensor, frame_mask: Tensor) -> Tensor:
        """The postnet's frames (unchanged without one): frames (batch, n_frames, frame), frame_mask (batch,
        n_frames) True on real frames."""
        if self.postnet is None:
            return frames
        return self.postnet(frames, frame_mask.unsqueeze(-1).to(frames.dtype))

    def loss(self, outputs: Tensor, batch: "Batch", label_smoothing: float = 0.0) -> Tensor:
        """Per real decoder step: mean |Δ| (+ mean Δ²) over its real frames, + BCE(stop) over every real step."""
        frames, stop = self.predict(outputs)                      # (batch, steps, r, frame), (batch, steps)
        target = batch.tgt_out.view_as(frames)                    # (batch, steps, r, frame)
        real = batch.frame_mask.view(frames.shape[:3]).unsqueeze(-1).to(frames.dtype)   # (batch, steps, r, 1)
        per_step = real.sum((-2, -1)).clamp(min=1) * self.frame_size           # (batch, steps) real values
        loss = self._frame_loss((frames - target) * real, per_step)
        if self.postnet is not None:
            refined = self.refine(frames.flatten(1, 2), batch.frame_mask).view_as(frames)
            loss = loss + self._frame_loss((refined - target) * real, per_step)
        is_last = batch.stop_target.to(stop.dtype)               # (batch, steps) 1 on each sequence's last step
        bce = F.binary_cross_entropy_with_logits(stop, is_last, reduction="none",
                                                 pos_weight=stop.new_tensor(self.stop_weight))
        return ((loss + bce) * batch.tgt_mask).sum()

    def _frame_loss(self, error: Tensor, per_step: Tensor) -> Tensor:
        """(batch, steps) mean |error| (+ mean error²) per step; error (batch, steps, r, frame), 0 on padding."""
        loss = error.abs().sum((-2, -1)) / per_step
        return loss + error.pow(2).sum((-2, -1)) / per_step if self.mse else loss
