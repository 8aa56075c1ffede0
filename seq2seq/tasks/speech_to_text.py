"""Speech → text: feature frames in (a frame frontend with optional stacking), tokens out (the token head), the
same attention encoder–decoder and search as translation; validation by teacher-forced loss, then greedy WER,
CER and exact match."""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from ..config import SpeechToTextConfig
from ..data.audio.features import spec_augment
from ..data.batching import Batch, make_batch, pad_frames
from ..metrics import char_error_rate, exact_match, word_error_rate
from ..model.frontends import FrameFrontend
from ..model.heads import TokenHead
from ..model.seq2seq import Seq2Seq
from ..search import Hypothesis, SearchOptions, decode_all, search_options
from .frames import FramesTask, FramesTextData, FramesVocab


class SpeechToTextTask(FramesTask):
    name = "speech_to_text"
    predictor_class = "seq2seq.inference.transcriber:Transcriber"
    routes = "seq2seq.serving.transcription:ROUTES"
    config_class = SpeechToTextConfig
    metrics = ("loss", "ppl", "wer", "cer", "accuracy")
    text_sides = ("tgt",)

    def sides(self, frames: list, ids: list) -> tuple[list, list]:
        return frames, ids

    def make_batch(self, sources: list, targets: list) -> Batch:
        return make_batch(sources, targets)

    def augmenter(self) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
        """SpecAugment masks on training frames when data.spec_augment is set. Each utterance's masks are drawn
        from the global generator, which train_state.pt saves: a resumed run masks exactly as an uninterrupted one."""
        settings = self.config.data.spec_augment
        if settings is None:
            return None

        def augment(frames: torch.Tensor) -> torch.Tensor:                    # (n_frames, n_mels)
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
            return spec_augment(frames, generator, **settings.model_dump())
        return augment

    def build_model(self, vocab: FramesVocab) -> Seq2Seq:
        m = self.config.model
        frontend = FrameFrontend(self.feature_size, m.frontend.size or m.embedding_size, m.frontend.stack,
                                 m.frontend.dropout)
        head = TokenHead(vocab.text.vocab_size, m.embedding_size, m.decoder_output_size, m.decoder.dropout,
                         m.tie_embeddings, word_dropout=m.decoder.word_dropout)
        return Seq2Seq(m, frontend, head, m.ctc_weight)

    def describe_model(self, model: Seq2Seq) -> str:
        m = self.config.model
        return (f"frames (stack {m.frontend.stack}) → {m.decoder.family} decoder → tokens, "
                f"{m.encoder.rnn}/{m.decoder.rnn}, {model.num_parameters():,} parameters")

    def decode(self, model: Seq2Seq, frames: list[torch.Tensor], options: SearchOptions,
               batch_size: int) -> list[list[Hypothesis]]:
        """The n-best hypotheses of each normalised feature-frame tensor (n, feature_size), in order: the one
        search behind validation, `Transcriber` and the report."""
        return decode_all(model, frames, options, batch_size=batch_size, device=next(model.parameters()).device,
                          collate=pad_frames)

    def transcribe(self, model: Seq2Seq, frames: list[torch.Tensor], vocab: FramesVocab) -> list[str]:
        """Greedy transcripts without attention (validation)."""
        dec = self.config.decode
        hyps = self.decode(model, frames, search_options(dec, beam_size=1, attention=False), dec.batch_size)
        return [vocab.text.decode(h[0].tokens) if h else "" for h in hyps]

    def alignments(self, model: Seq2Seq, data: FramesTextData, vocab: FramesVocab, count: int) -> list[tuple]:
        """Greedy transcripts: each output token's attention over the encoder states (`reduction` frames each)."""
        frames = data.valid_src[:count]
        hyps = self.decode(model, frames, search_options(self.config.decode, beam_size=1), count)
        out = []
        for f, h, ref in zip(frames, hyps, data.valid_refs):
            tokens = vocab.text.pieces(h[0].tokens) + (["</s>"] if h[0].finished else [])
            out.append((vocab.denormalise(f).numpy(), tokens, h[0].attention.numpy(), model.encoder.reduction,
                        f"{vocab.text.decode(h[0].tokens)} (reference: {ref})"))
        return out

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
