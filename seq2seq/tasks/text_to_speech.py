"""Text → speech: tokens in (the token embedding), feature frames out (the frame head: `reduction` frames per
step + a stop logit), the same attention encoder–decoder; validation by the teacher-forced loss and frame L1,
then free-running generation: how often it stops at the reference length (at the right step), its L1 where it
does, and how far off the lengths are on average."""

from __future__ import annotations

from pathlib import Path

import torch

from ..config import TextToSpeechConfig
from ..data.batching import Batch, make_frame_batch, pad_sources
from ..data.text.tokenizers import PhonemeTokenizer, Tokenizer
from ..model.frontends import ConvTokenFrontend, TokenFrontend
from ..model.guided_attention import GuidedAttention
from ..model.heads import FrameHead
from ..model.seq2seq import Seq2Seq
from ..search import FrameOutput, generate_frames
from . import g2p  # noqa: F401  (registers how a phoneme tokenizer loads its G2P run)
from .frames import FramesTask, FramesTextData, FramesVocab


class TextToSpeechTask(FramesTask):
    name = "text_to_speech"
    predictor_class = "seq2seq.inference.synthesizer:Synthesizer"
    routes = "seq2seq.serving.synthesis:ROUTES"
    config_class = TextToSpeechConfig
    text_sides = ("src",)
    rows = "input"

    def train_text_tokenizer(self, texts: list[str]) -> Tokenizer:
        """Phonemes (tokenizer.type: phonemes): the dictionary's inventory, with the G2P run if one is named, asked
        about the training texts' unknown words in one batch; other types as every frames task trains them."""
        tok = self.config.tokenizer
        if tok.type != "phonemes":
            return super().train_text_tokenizer(texts)
        phonemes = PhonemeTokenizer(tok.lexicon, Path(tok.g2p) if tok.g2p else None)
        phonemes.prepare(texts)
        return phonemes

    def sides(self, frames: list, ids: list) -> tuple[list, list]:
        return ids, frames

    def make_batch(self, sources: list, targets: list) -> Batch:
        return make_frame_batch(sources, targets, self.config.model.head.reduction)

    def build_model(self, vocab: FramesVocab) -> Seq2Seq:
        m = self.config.model
        h = m.head
        frontend = (ConvTokenFrontend(vocab.text.vocab_size, m.embedding_size, m.encoder.dropout,
                                      m.frontend.conv_layers, m.frontend.kernel, m.encoder.word_dropout)
                    if m.frontend.conv_layers
                    else TokenFrontend(vocab.text.vocab_size, m.embedding_size, m.encoder.dropout,
                                       m.encoder.word_dropout))
        head = FrameHead(self.feature_size, m.embedding_size, m.decoder_output_size, h.reduction, h.prenet_size,
                         h.prenet_dropout, h.stop_weight, h.mse, h.postnet_layers, h.postnet_channels)
        losses = [GuidedAttention(h.guided_attention, h.guided_width, h.guided_schedule)] if h.guided_attention else []
        return Seq2Seq(m, frontend, head, losses)

    def describe_model(self, model: Seq2Seq) -> str:
        m = self.config.model
        convs = f" → {m.frontend.conv_layers} convolutions" if m.frontend.conv_layers else ""
        return (f"tokens{convs} → {m.decoder.family} decoder → frames (r = {m.head.reduction}) + stop, "
                f"{m.encoder.rnn}/{m.decoder.rnn}, {model.num_parameters():,} parameters")

    @torch.no_grad()
    def synthesize(self, model: Seq2Seq, sources: list[list[int]]) -> list[FrameOutput]:
        """Frames for each token-id list, in order (length-sorted batches of decode.batch_size)."""
        device = next(model.parameters()).device
        out: list[FrameOutput] = [None] * len(sources)   # type: ignore[list-item]
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        size, h = self.config.decode.batch_size, self.config.model.head
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            src, lengths, _ = pad_sources([sources[i] for i in chunk])
            for i, result in zip(chunk, generate_frames(model, src.to(device), lengths, h.max_steps,
                                                        h.stop_threshold, h.max_steps_per_token)):
                out[i] = result
        return out

    def alignments(self, model: Seq2Seq, data: FramesTextData, vocab: FramesVocab, count: int) -> list[tuple]:
        """Free-running syntheses: each input token's attention over the decoder steps (r frames each)."""
        sources = data.valid_src[:count]
        return [(vocab.denormalise(out.frames).numpy(), vocab.text.pieces(src), out.attention.T.numpy(),
                 self.config.model.head.reduction, vocab.text.decode(src) + ("" if out.stopped else " (no stop)"))
                for src, out in zip(sources, self.synthesize(model, sources))]

    @torch.no_grad()
    def validate(self, model: Seq2Seq, data: FramesTextData, vocab: FramesVocab) -> dict[str, float]:
        model.eval()
        device = next(model.parameters()).device
        total, l1, steps, frames = 0.0, 0.0, 0, 0
        for batch in data.valid_batches(self.config.decode.batch_size):
            batch = batch.to(device)
            out, _ = model.decoder(batch.tgt_in, model.encode(batch.src, batch.src_lengths))   # one teacher-forced pass
            total += float(model.head.loss(out, batch))
            steps += batch.n_tokens
            l1 += float(self._l1(model.head, out, batch))
            frames += int(batch.frame_mask.sum())
        generated = self.synthesize(model, data.valid_src)
        model.train()
        return {"loss": round(total / max(1, steps), 4), "l1": round(l1 / max(1, frames * self.feature_size), 4),
                **self._free_running([g.frames for g in generated], data.valid_tgt)}

    def _free_running(self, generated: list[torch.Tensor], real: list[torch.Tensor]) -> dict[str, float]:
        """length_match: % of syntheses that stopped at the step holding the real last frame (what the stop flag
        is trained for; a step writes r frames); free_l1: their L1 over the real frames; stop_error: mean
        |generated − real| / real length, in %, over all."""
        r = self.config.model.head.reduction
        same = [(g[:len(t)], t) for g, t in zip(generated, real) if len(g) == -(-len(t) // r) * r]
        free_l1 = sum(float((g - t).abs().mean()) for g, t in same) / len(same) if same else float("nan")
        error = sum(abs(len(g) - len(t)) / len(t) for g, t in zip(generated, real)) / max(1, len(real))
        return {"length_match": round(100.0 * len(same) / max(1, len(generated)), 2), "free_l1": round(free_l1, 4),
                "stop_error": round(100.0 * error, 2)}

    @staticmethod
    def _l1(head: FrameHead, out: torch.Tensor, batch) -> torch.Tensor:
        """Summed |predicted (after any postnet) − reference| over the real frames; out (batch, steps, output)
        teacher-forced."""
        frames, _ = head.predict(out)                                        # (batch, steps, r, frame)
        frames = head.refine(frames.flatten(1, 2), batch.frame_mask)         # (batch, steps * r, frame)
        real = batch.frame_mask.unsqueeze(-1)                                # (batch, steps * r, 1)
        return ((frames - batch.tgt_out.view_as(frames)).abs() * real).sum()

    def summarize(self, result: dict[str, float]) -> str:
        return (f"loss {result['loss']:.3f} L1 {result['l1']:.3f} | free-running: right length "
                f"{result['length_match']:.1f}% (length off by {result.get('stop_error', float('nan')):.1f}%), L1 "
                f"{result['free_l1']:.3f}")
