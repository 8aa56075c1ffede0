"""The whole model: encoder + decoder, built from a `ModelConfig`, plus the training loss."""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.batching import Batch
from .decoder import BahdanauDecoder, Decoder, LuongDecoder, VanillaDecoder
from .encoder import Encoder, Memory


class Seq2Seq(nn.Module):
    def __init__(self, config: ModelConfig, src_vocab_size: int, tgt_vocab_size: int):
        super().__init__()
        enc, dec = config.encoder, config.decoder
        self.encoder = Encoder(src_vocab_size, config.embedding_size, enc.rnn, enc.hidden_size, enc.layers,
                               enc.bidirectional, enc.dropout)
        common = dict(vocab_size=tgt_vocab_size, embedding_size=config.embedding_size,
                      memory_size=self.encoder.output_size, rnn=dec.rnn, hidden_size=dec.hidden_size,
                      layers=dec.layers, dropout=dec.dropout, bridge=config.bridge,
                      tie_embeddings=config.tie_embeddings)
        attention_size = dec.attention_size or dec.hidden_size
        self.decoder: Decoder
        if dec.attention == "vanilla":
            self.decoder = VanillaDecoder(**common)
        elif dec.attention == "bahdanau":
            self.decoder = BahdanauDecoder(**common, attention_size=attention_size)
        else:
            self.decoder = LuongDecoder(**common, attention_size=attention_size, score=dec.luong_score,
                                        input_feeding=dec.feeds_input, alignment=dec.alignment,
                                        window=dec.window)

    def encode(self, src: Tensor, lengths: Tensor, mask: Tensor) -> Memory:
        return self.encoder(src, lengths, mask)

    def teacher_forced(self, batch: Batch) -> tuple[Tensor, Optional[Tensor]]:
        """Teacher forcing: logits (batch, tgt_len, vocab) and attention (batch, tgt_len, src_len) or None."""
        memory = self.encode(batch.src, batch.src_lengths, batch.src_mask)
        out, attention = self.decoder(batch.tgt_in, memory)                 # (batch, tgt_len, output_size)
        return self.decoder.generator(out), attention

    def forward(self, batch: Batch, label_smoothing: float = 0.0, teacher_prob: float = 1.0) -> Tensor:
        """The training loss: summed cross-entropy over real target tokens (divide by batch.n_tokens for the mean).
        Computed in `forward` so that a data-parallel wrapper syncs gradients through it.
        teacher_prob < 1: scheduled sampling (see `Decoder.forward`)."""
        memory = self.encode(batch.src, batch.src_lengths, batch.src_mask)
        out, _ = self.decoder(batch.tgt_in, memory, teacher_prob)            # (batch, tgt_len, output_size)
        # the output layer and softmax only on real positions: padding never costs a vocabulary-sized row
        logits = self.decoder.generator(out[batch.tgt_mask]).float()         # (n_tokens, vocab), fp32 under bf16
        return F.cross_entropy(logits, batch.tgt_out[batch.tgt_mask], reduction="sum",
                               label_smoothing=label_smoothing)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())
