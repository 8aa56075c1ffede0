"""Python API: load a run directory and translate a list of strings.

    from seq2seq import load
    translator = load("runs/demo")
    [r] = translator.translate(["Thursday, 25th of June 2009"])
    r.text, r.score, r.tokens, r.src_tokens, r.attention   # attention: (len(tokens), len(src_tokens)) or None
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from ..config import Config
from ..data.text.tokenizers import UNK, Tokenizer
from ..errors import UserError, warn
from ..search import decode_all, search_options
from ..search.ensemble import Decodable, Ensemble
from .loading import Run, RunDirs, load_task_run, run_list
from .predictor import Evaluation, Samples, TestSet


@dataclass
class Translation:
    text: str                        # detokenized output
    score: float                     # log-probability of the output (sum over tokens, EOS included)
    tokens: list[str]                # output pieces; ends with "</s>" when the model stopped by itself
    src_tokens: list[str]            # source pieces as the model saw them (after truncation)
    attention: Optional[np.ndarray]  # (len(tokens), len(src_tokens)) weights, rows sum to 1; None for vanilla
                                     # or when translated with attention=False
    truncated: bool = False          # the source was longer than model.max_src_len and was cut


class Translator:
    """Translate with one run, or an ensemble of runs that share their tokenizers (log-probabilities averaged)."""

    def __init__(self, config: Config, model, src_tokenizer: Tokenizer, tgt_tokenizer: Tokenizer,
                 device: str | torch.device = "cpu", members: Optional[list] = None,
                 decodable: Optional[Decodable] = None):
        """decodable: what search decodes through instead of the model(s), e.g. an exported model on onnxruntime
        (`onnx_runtime.onnx_translator`; `model` is then None)."""
        self.config, self.model = config, model
        self.src_tokenizer, self.tgt_tokenizer = src_tokenizer, tgt_tokenizer
        self.device = device
        self.ensemble: Decodable = decodable if decodable is not None else Ensemble(members or [model])
        self.run_dirs: list[str] = []       # what it was loaded from (evaluate finds the run's own test set there)
        self.run: Optional[Run] = None      # the first run loaded (it keeps the decode.lm models it loads)

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "Translator":
        """run_dir: one run directory, or several (an ensemble; the first one's config sets the decoding defaults).
        device: cpu (default), cuda, cuda:N, mps, or auto (a CUDA GPU when PyTorch sees one)."""
        from ..devices import resolve_device

        resolved = resolve_device(device)
        run_dirs = run_list(run_dir)
        run = _text_run(run_dirs[0], which, resolved)
        (src_tok, tgt_tok), members = run.vocab, [run.model]
        for other in run_dirs[1:]:
            member = _text_run(other, which, resolved)
            for side, mine, theirs in (("source", src_tok, member.vocab[0]), ("target", tgt_tok, member.vocab[1])):
                if not same_vocabulary(mine, theirs):
                    raise UserError(f"cannot ensemble {run_dirs[0]} and {other}: their {side} vocabularies differ "
                                    f"(train members with --set tokenizer.from_run={run_dirs[0]})")
            members.append(member.model)
        translator = cls(run.config, run.model, src_tok, tgt_tok, resolved, members)
        translator.run_dirs = [str(r) for r in run_dirs]
        translator.run = run
        return translator

    def translate(self, texts: list[str], batch_size: Optional[int] = None, beam_size: Optional[int] = None,
                  alpha: Optional[float] = None, warn: Optional[Callable[[str], None]] = None,
                  **search: Any) -> list[Translation]:
        """One `Translation` per input string, in order. Empty input gives empty output.

        beam_size / alpha / search (beta, max_len_a, max_len_b, max_len, min_len, no_repeat_ngram, greedy_fallback,
        precision):
        override the run's decode settings (beam 1 = greedy). attention=False skips recording attention matrices
        (a little faster; `Translation.attention` is then None)
        warn: called with a message for each input longer than the model's limit (it is truncated).
        """
        return [n[0] for n in self.translate_n_best(texts, 1, batch_size, beam_size, alpha, warn, **search)]

    def translate_n_best(self, texts: list[str], n_best: int, batch_size: Optional[int] = None,
                         beam_size: Optional[int] = None, alpha: Optional[float] = None,
                         warn: Optional[Callable[[str], None]] = None, **search: Any) -> list[list[Translation]]:
        """Up to `n_best` translations per input (best first; the beam is widened to n_best if narrower).
        An empty input gets one empty translation."""
        limit = self.config.model.max_src_len
        sources, truncated = [], []
        unknown: dict[int, list[str]] = {}          # line → symbols the source vocabulary lacks
        for number, text in enumerate(texts, start=1):
            ids = self.src_tokenizer.encode(text) if text.strip() else []
            if warn and UNK in ids:
                unknown[number] = self.src_tokenizer.unknown(text)
            cut = len(ids) > limit
            if cut:
                if warn:
                    warn(f"line {number}: {len(ids)} source tokens, truncated to the model's limit of {limit} "
                         f"(model.max_src_len)")
                ids = ids[:limit]
            sources.append(ids)
            truncated.append(cut)
        if unknown:
            lines = list(unknown)
            symbols = list(dict.fromkeys(ch for chars in unknown.values() for ch in chars))
            warn(f"{len(lines):,} of {len(texts):,} input lines contain symbols the model's vocabulary lacks (lines "
                 f"{', '.join(map(str, lines[:5]))}{', ...' if len(lines) > 5 else ''}: "
                 f"{' '.join(repr(c) for c in symbols[:8])}{' ...' if len(symbols) > 8 else ''}); they are read "
                 f"as <unk>")
        dec = self.config.decode
        try:
            opts = search_options(dec, beam_size=beam_size, alpha=alpha, n_best=n_best, **search)
        except (TypeError, ValueError) as exc:
            raise UserError(str(exc)) from None
        lm = self.run.language_model(opts, self.tgt_tokenizer) if self.run is not None else None
        nbest = decode_all(self.ensemble, sources, opts, batch_size=batch_size or dec.batch_size, device=self.device,
                           lm=lm)
        out = []
        for ids, hyps, cut in zip(sources, nbest, truncated):
            if not hyps:
                empty = np.zeros((0, 0)) if self.has_attention and opts.attention else None
                out.append([Translation("", 0.0, [], [], empty, cut)])
                continue
            src_pieces = self.src_tokenizer.pieces(ids)
            out.append([Translation(self.tgt_tokenizer.decode(h.tokens), h.score,
                                    self.tgt_tokenizer.pieces(h.tokens) + (["</s>"] if h.finished else []),
                                    src_pieces, None if h.attention is None else h.attention.numpy(), cut)
                        for h in hyps])
        return out

    def predict(self, inputs: Sequence[str], **options: Any) -> list[Translation]:
        return self.translate(list(inputs), **options)

    @property
    def has_attention(self) -> bool:
        return self.ensemble.has_attention

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        """sacreBLEU BLEU and chrF (default 13a tokenization, cased, detokenized), exact match and the token error
        rate (word edits over reference words: for a G2P run, the phoneme error rate) on a test set:
        the run's own data.test by default, `test.test` (a .tsv or a PREFIX of the run's languages), or
        `test.src`/`test.ref` files."""
        from ..metrics import score, word_error_rate
        from .test_sets import evaluation_corpus

        if test.manifest is not None:
            raise UserError("--manifest is for runs that read recordings; a translation run takes --test or "
                            "--src/--ref")
        if not self.run_dirs:
            raise UserError("evaluate needs a translator loaded from a run directory")
        corpus = evaluation_corpus(Path(self.run_dirs[0]), test.test, test.src, test.ref)
        hyps = [n[0].text for n in self.translate_n_best(corpus.src, 1, batch_size=batch_size, **search)]
        s = score(hyps, corpus.tgt)
        lines = [f"{corpus.origin}: {len(corpus.src):,} segments", f"BLEU = {s.bleu:.2f}   {s.bleu_signature}",
                 f"       {s.bleu_detail}", f"chrF = {s.chrf:.2f}   {s.chrf_signature}",
                 f"exact match = {s.exact_match:.2f}% of {s.sentences} sentences",
                 f"token error rate = {(wer := word_error_rate(hyps, corpus.tgt)):.2f}% (word edits / reference words)"]
        return Evaluation(hyps, {"test": corpus.origin, **s.as_dict(), "wer": wer}, lines)

    def attention_pictures(self, inputs: Sequence[str], out_dir: Path, formats: Sequence[str],
                           **search: Any) -> list[Path]:
        """A heatmap per sentence: source pieces along x, generated pieces along y, attention as colour."""
        from ..plot import save_heatmap

        paths = []
        for number, hyps in enumerate(self.translate_n_best(list(inputs), 1, attention=True, **search), start=1):
            t = hyps[0]
            if t.attention is None:
                raise UserError(f"{' + '.join(self.run_dirs)} has a vanilla decoder: there is no attention to plot")
            if not t.tokens:
                warn(f"line {number}: empty input, no heatmap")
                continue
            paths += save_heatmap(out_dir / f"attention-{number:03d}", t.src_tokens, t.tokens, t.attention,
                                  formats, title=t.text)
        return paths

    def samples(self, count: int) -> Samples:
        from ..data.text.pipeline import load_corpora

        valid = load_corpora(self.config, ("valid",))["valid"]
        sources, refs = valid.src[:count], valid.tgt[:count]
        hyps = self.translate(sources, beam_size=1, attention=False)
        return Samples("Sample translations", ("source", "reference", "translation"),
                       [(s, r, h.text) for s, r, h in zip(sources, refs, hyps)])

    def info(self) -> dict[str, Any]:
        return {"vocab": {"source": self.src_tokenizer.vocab_size, "target": self.tgt_tokenizer.vocab_size}}


def _text_run(run_dir: str | Path, which: str, device) -> Run:
    """A run whose task reads and writes text (a translation run), or a one-line error naming its task."""
    from ..tasks import TranslationTask

    return load_task_run(run_dir, which, str(device), TranslationTask, "translating needs text in and text out")


def same_vocabulary(a: Tokenizer, b: Tokenizer) -> bool:
    return a.vocab_size == b.vocab_size and a.pieces(range(a.vocab_size)) == b.pieces(range(b.vocab_size))
