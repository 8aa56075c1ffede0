"""What the tasks that read frames and write text share (speech → text, image → text): the frames are the
source, the token ids the target; the one search behind validation, the predictors and the report; validation
by teacher-forced loss, then greedy WER, CER and exact match."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn

from ..data.batching import Batch, make_batch, pad_frames
from ..metrics import char_error_rate, exact_match, word_error_rate
from ..model.ctc import CTCHead
from ..model.heads import TokenHead
from ..model.losses import ExtraLoss
from ..model.seq2seq import Seq2Seq
from ..search import Hypothesis, SearchOptions, decode_all, validation_options
from ..search.ctc import decode_ctc_greedy
from .frames import FramesTask, FramesTextData, FramesVocab


class FramesToTextTask(FramesTask):
    def sides(self, frames: list, ids: list) -> tuple[list, list]:
        return frames, ids

    def make_batch(self, sources: list, targets: list) -> Batch:
        return make_batch(sources, targets)

    def text_model(self, frontend: nn.Module, vocab: FramesVocab, losses: Sequence[ExtraLoss] = ()) -> Seq2Seq:
        """The model over `frontend`: the token head, joint CTC on the encoder states when model.ctc_weight, and
        the task's other extra `losses`."""
        m = self.config.model
        head = TokenHead(vocab.text.vocab_size, m.embedding_size, m.decoder_output_size, m.decoder.dropout,
                         m.tie_embeddings, word_dropout=m.decoder.word_dropout)
        ctc = [CTCHead(m.encoder.output_size, vocab.text.vocab_size, m.ctc_weight)] if m.ctc_weight else []
        return Seq2Seq(m, frontend, head, [*ctc, *losses])

    def decode(self, model: Seq2Seq, frames: list[torch.Tensor], options: SearchOptions, batch_size: int,
               lm: Optional[nn.Module] = None) -> list[list[Hypothesis]]:
        """The n-best hypotheses of each normalised feature-frame tensor (n, feature_size), in order: the one
        search behind validation, the predictors and the report — joint with CTC prefix scores (ctc_weight) and
        the language model `lm` (lm_weight), or CTC's best path alone (ctc_greedy)."""
        device = next(model.parameters()).device
        if options.ctc_greedy:
            return decode_ctc_greedy(model, frames, batch_size=batch_size, device=device, collate=pad_frames)
        return decode_all(model, frames, options, batch_size=batch_size, device=device, collate=pad_frames, lm=lm)

    def transcribe(self, model: Seq2Seq, frames: list[torch.Tensor], vocab: FramesVocab) -> list[str]:
        """Greedy transcripts without attention (validation: the run's ctc_weight, no language model)."""
        dec = self.config.decode
        hyps = self.decode(model, frames, validation_options(dec, attention=False),
                           dec.batch_size)
        return [vocab.text.decode(h[0].tokens) if h else "" for h in hyps]

    @torch.no_grad()
    def validate(self, model: Seq2Seq, data: FramesTextData, vocab: FramesVocab) -> dict[str, float]:
        model.eval()
        device = next(model.parameters()).device
        total, tokens = 0.0, 0
        for batch in data.valid_batches(self.config.decode.batch_size):
            total += float(model(batch.to(device)))
            tokens += batch.n_tokens
        texts = self.transcribe(model, data.valid_src, vocab)
        model.train()
        loss = total / max(1, tokens)
        return {"loss": round(loss, 4), "ppl": round(math.exp(min(loss, 50)), 2),
                "wer": word_error_rate(texts, data.valid_refs), "cer": char_error_rate(texts, data.valid_refs),
                "accuracy": exact_match(texts, data.valid_refs)}

    def summarize(self, result: dict[str, float]) -> str:
        return (f"loss {result['loss']:.3f} ppl {result['ppl']:.2f} | WER {result['wer']:.2f} CER "
                f"{result['cer']:.2f} exact {result['accuracy']:.1f}%")
