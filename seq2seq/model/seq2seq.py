"""The whole model: frontend → encoder → decoder (with its output head), plus the training loss.

    model = Seq2Seq(config.model, frontend, head, losses)  # or Seq2Seq.for_text(config.model, src_vocab, tgt_vocab)
    loss = model(batch, label_smoothing, teacher_prob)     # summed over real target positions
    memory = model.encode(src, src_lengths)                # search starts here

The frontend (token embedding or feature frames), the head (tokens or frames + stop) and any extra training losses
(model/losses.py: joint CTC, guided attention) are what a task chooses; the encoder and the decoder families between
them are the same for every task.
"""

from __future__ import annotations

from typing import Optional, Sequence

from torch import Tensor, nn

from ..config import ModelConfig
from ..data.batching import Batch
from .decoder import FAMILIES, Decoder
from .encoder import Encoder, Memory
from .frontends import TokenFrontend
from .heads import TokenHead
from .losses import ExtraLoss


class Seq2Seq(nn.Module):
    def __init__(self, config: ModelConfig, frontend: nn.Module, head: nn.Module, losses: Sequence[ExtraLoss] = ()):
        super().__init__()
        enc, dec = config.encoder, config.decoder
        self.encoder = Encoder(frontend, enc.rnn, enc.hidden_size, enc.layers, enc.bidirectional, enc.dropout,
                               enc.pyramid, enc.output_dropout, enc.residual)
        self.decoder: Decoder = FAMILIES[dec.attention](dec, head, self.encoder.output_size,
                                                        config.decoder_output_size, config.bridge)
        for loss in losses:                       # kept as model.NAME (weights NAME.*), applied in `forward`
            self.add_module(loss.name, loss)
        self.loss_names = tuple(loss.name for loss in losses)

    @classmethod
    def for_text(cls, config: ModelConfig, src_vocab_size: int, tgt_vocab_size: int) -> "Seq2Seq":
        """Tokens in, tokens out (translation): a token embedding frontend and a token head."""
        frontend = TokenFrontend(src_vocab_size, config.embedding_size, config.encoder.dropout,
                                 config.encoder.word_dropout)
        head = TokenHead(tgt_vocab_size, config.embedding_size, config.decoder_output_size, config.decoder.dropout,
                         config.tie_embeddings, word_dropout=config.decoder.word_dropout)
        return cls(config, frontend, head)

    @property
    def head(self) -> nn.Module:
        return self.decoder.head

    def encode(self, src: Tensor, lengths: Tensor) -> Memory:
        return self.encoder(src, lengths)

    def teacher_forced(self, batch: Batch) -> tuple[Tensor, Optional[Tensor]]:
        """Teacher forcing: the head's predictions — logits (batch, tgt_len, vocab), or (frames, stop logits) —
        and attention (batch, tgt_len, src_len) or None."""
        out, attention = self.decoder(batch.tgt_in, self.encode(batch.src, batch.src_lengths))
        return self.head.predict(out), attention

    def forward(self, batch: Batch, label_smoothing: float = 0.0, teacher_prob: float = 1.0, step: int = 0) -> Tensor:
        """The training loss, summed over real target positions (divide by batch.n_tokens for the mean): the head's
        loss (label-smoothed cross-entropy for tokens; L1/MSE + stop BCE for frames). Computed in `forward` so that
        a data-parallel wrapper syncs gradients through it. teacher_prob < 1: scheduled sampling; step: the updates done
        (scheduled extra losses)."""
        memory = self.encode(batch.src, batch.src_lengths)
        out, attention = self.decoder(batch.tgt_in, memory, teacher_prob)    # (batch, tgt_len, output_size)
        loss = self.head.loss(out, batch, label_smoothing)
        for name in self.loss_names:                                           # attention (batch, tgt_len, mem)
            loss = getattr(self, name).combine(loss, memory, attention, batch, step)
        return loss

    def extra_loss(self, name: str) -> Optional[nn.Module]:
        """The extra training loss kept under `name` ("ctc", "guided_attention"), or None without it."""
        return getattr(self, name) if name in self.loss_names else None

    def num_parameters(self) -> int:
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

