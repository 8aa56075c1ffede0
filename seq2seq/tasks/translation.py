"""Text → text: parallel corpora (or a synthetic task), sentencepiece/char/word tokenizers, the attention
encoder–decoder, and validation by teacher-forced loss plus greedy BLEU, chrF and exact match."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .. import checkpoint as ckpt
from ..config import TranslationConfig
from ..data.batching import make_batch, plan_batches
from ..data.text.pipeline import Dataset, build_tokenizers, encode_data, load_corpora, write_splits
from ..data.text.tokenizers import Tokenizer, save_tokenizers
from ..metrics import score, word_error_rate
from ..model.seq2seq import Seq2Seq
from ..rundir import RunDir
from ..search import decode_all, validation_options
from .base import Splits, Task

Tokenizers = tuple[Tokenizer, Tokenizer]     # (source, target); one object twice when joint


class TranslationTask(Task):
    name = "translation"
    predictor_class = "seq2seq.inference.translator:Translator"
    routes = "seq2seq.serving.translation:ROUTES"
    config_class = TranslationConfig
    exportable = True
    text_sides = ("src", "tgt")

    # ---- data -------------------------------------------------------------------------------------------------

    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        return load_corpora(self.config, splits)

    def build_vocab(self, data: Splits) -> Tokenizers:
        return build_tokenizers(self.config, data["train"])

    def save_vocab(self, run_dir: Path, vocab: Tokenizers) -> None:
        save_tokenizers(RunDir(run_dir).tokenizer, *vocab)

    def load_vocab(self, run_dir: Path) -> Tokenizers:
        return ckpt.tokenizers_of(run_dir)

    def save_data(self, run_dir: Path, data: Splits) -> None:
        """Keep generated data, and a validation split held out of train, beside the model (`translate` and
        `evaluate` can be tried on it; a user sees what was held out)."""
        if self.config.data.synthetic is not None:
            write_splits(RunDir(run_dir).data, data)
        elif self.config.data.valid is None:
            write_splits(RunDir(run_dir).data, {"valid": data["valid"]})

    def encode(self, data: Splits, vocab: Tokenizers) -> Dataset:
        return encode_data(self.config, data, *vocab)

    # ---- model ------------------------------------------------------------------------------------------------

    def build_model(self, vocab: Tokenizers) -> Seq2Seq:
        src_tok, tgt_tok = vocab
        return Seq2Seq.for_text(self.config.model, src_tok.vocab_size, tgt_tok.vocab_size)

    def describe_model(self, model: Seq2Seq) -> str:
        m = self.config.model
        return (f"{m.decoder.family} decoder, {m.encoder.rnn}/{m.decoder.rnn}, {model.num_parameters():,} "
                f"parameters")

    # ---- validation -------------------------------------------------------------------------------------------

    @torch.no_grad()
    def validate(self, model: Seq2Seq, data: Dataset, vocab: Tokenizers) -> dict[str, float]:
        """Loss/perplexity (teacher forcing) and greedy BLEU, chrF, exact match on the validation set."""
        model.eval()
        loss = self._teacher_forced_loss(model, data)
        texts = self._greedy(model, data.valid_src, vocab[1])
        s = score(texts, data.valid_refs)
        model.train()
        return {"loss": round(loss, 4), "ppl": round(math.exp(min(loss, 50)), 2), "bleu": s.bleu, "chrf": s.chrf,
                "accuracy": s.exact_match, "wer": word_error_rate(texts, data.valid_refs)}

    def _teacher_forced_loss(self, model: Seq2Seq, data: Dataset) -> float:
        """Cross-entropy per target token over the validation pairs training would keep."""
        device = next(model.parameters()).device
        limit = self.config.data.max_len
        pairs = [(s, t) for number, (s, t) in enumerate(zip(data.valid_src, data.valid_tgt), start=1)
                 if s and t and len(s) <= limit and len(t) <= limit and number not in data.valid_truncated]
        total, tokens = 0.0, 0
        for batch_ids in plan_batches([len(s) for s, _ in pairs], [len(t) for _, t in pairs], epoch=0, seed=0,
                                      batch_sentences=self.config.decode.batch_size, shuffle=False):
            batch = make_batch([pairs[i][0] for i in batch_ids], [pairs[i][1] for i in batch_ids]).to(device)
            total += float(model(batch))
            tokens += batch.n_tokens
        return total / max(1, tokens)

    def _greedy(self, model: Seq2Seq, sources: list[list[int]], tgt_tok: Tokenizer) -> list[str]:
        dec = self.config.decode
        hyps = decode_all(model, sources, validation_options(dec, attention=False),
                          batch_size=dec.batch_size, device=next(model.parameters()).device)
        return [tgt_tok.decode(h[0].tokens) if h else "" for h in hyps]

    @torch.no_grad()
    def after_validation(self, model: Seq2Seq, data: Dataset, vocab: Tokenizers, run_dir: Path, step: int) -> None:
        """Heatmaps of the first `train.attention_plots` validation sentences (greedy), one folder per sentence:
        RUN/attention/valNN/stepNNNNNNN.png (+ .json), so the same sentence can be followed as attention sharpens."""
        from ..plot import save_heatmap

        chosen = [i for i, s in enumerate(data.valid_src) if s][:self.config.train.attention_plots]
        if not chosen or not model.decoder.has_attention:
            return
        src_tok, tgt_tok = vocab
        model.eval()
        sources = [data.valid_src[i] for i in chosen]
        hyps = decode_all(model, sources, validation_options(self.config.decode),
                          batch_size=len(sources), device=next(model.parameters()).device)
        model.train()
        for i, src, h in zip(chosen, sources, hyps):
            tokens = tgt_tok.pieces(h[0].tokens) + (["</s>"] if h[0].finished else [])
            save_heatmap(RunDir(run_dir).picture(i, step), src_tok.pieces(src),
                         tokens, h[0].attention.numpy(), title=f"step {step:,}: {tgt_tok.decode(h[0].tokens)}")

    def summarize(self, result: dict[str, float]) -> str:
        return (f"loss {result['loss']:.3f} ppl {result['ppl']:.2f} | BLEU {result['bleu']:.2f} chrF "
                f"{result['chrf']:.2f} exact {result['accuracy']:.1f}% token error rate "
                f"{result.get('wer', float('nan')):.2f}%")
