"""A language_model run for inference: the log-probability and perplexity of texts (`seq2seq.load(run)
.score([...])`, `POST /score`, `seq2seq evaluate RUN --test FILE`), and the model shallow fusion adds in search
(`decode.lm`: `loading.fusion_model`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from ..data.text.lm_texts import in_form, manifest_transcripts, read_lm_texts
from ..data.text.spoken import spoken_form
from ..errors import UserError
from ..tasks.language_model import mean_loss, sentences_batch
from .loading import Run, RunDirs, load_task_run, one_run
from .predictor import Evaluation, TestSet


@dataclass
class TextScore:
    text: str
    log_prob: float                  # natural log, EOS included
    tokens: list[str]
    perplexity: float                # exp(-log_prob / (tokens + 1))
    attention: Optional[Any] = None  # a language model attends to nothing


class LanguageModelScorer:
    def __init__(self, run: Run, run_dir: Optional[Path] = None):
        self.run, self.config, self.model, self.vocab = run, run.config, run.model, run.vocab
        self.run_dir = run_dir
        self.device = next(self.model.parameters()).device
        self.has_attention = False

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "LanguageModelScorer":
        from ..tasks import LanguageModelTask

        run_dir = one_run(run_dir, LanguageModelTask.name)
        run = load_task_run(run_dir, which, device, LanguageModelTask, "scoring text needs a language_model run")
        return cls(run, Path(run_dir))

    def shaped(self, text: str) -> str:
        """The text in the form the model was trained on (data.transcripts)."""
        return spoken_form(text) if self.config.data.transcripts == "spoken" else text

    @torch.no_grad()
    def score(self, texts: Sequence[str]) -> list[TextScore]:
        """One `TextScore` per text, in order (each scored alone: padding never changes a score)."""
        device = next(self.model.parameters()).device
        out = []
        for text in texts:
            ids = self.vocab.encode(self.shaped(text))
            total = -float(self.model(sentences_batch([ids]).to(device)))
            out.append(TextScore(text, total, self.vocab.pieces(ids), math.exp(-total / (len(ids) + 1))))
        return out

    predict = score

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        """Perplexity of a text file (--test FILE, one sentence a line), a manifest's transcripts (--manifest), else
        of the run's data.test."""
        if test.src or test.ref:
            raise UserError("a language model is evaluated on text: give --test FILE or --manifest FILE.tsv, not "
                            "--src/--ref")
        if search:
            raise UserError(f"a language model has no search: {', '.join(sorted(search))} do not apply")
        data = self.config.data
        if test.manifest is not None:
            sentences = in_form(manifest_transcripts(Path(test.manifest)), data.transcripts)
        else:
            if test.test is not None:
                data = data.model_copy(update={"root": None, "test": str(Path(test.test).resolve())})
            elif data.test is None:
                raise UserError(f"{self.run_dir} has no test text (data.test is not set): give --test FILE or "
                                f"--manifest FILE.tsv")
            sentences = read_lm_texts(data, ("test",))["test"]
        loss, tokens = mean_loss(self.model, [self.vocab.encode(s) for s in sentences],
                                 batch_size or self.config.decode.batch_size)
        scores = {"sentences": len(sentences), "tokens": tokens, "loss": round(loss, 4),
                  "ppl": round(math.exp(min(loss, 50)), 3)}
        return Evaluation([], scores, [f"{len(sentences):,} sentences, {tokens:,} tokens (EOS included): "
                                       f"perplexity {scores['ppl']:.3f} (cross-entropy {loss:.4f} nats a token)"])

    def attention_pictures(self, inputs, out_dir, formats, **search) -> list[Path]:
        raise UserError("a language model attends to nothing: `seq2seq attention` needs a run with attention")

    def samples(self, count: int) -> None:
        return None

    def info(self) -> dict[str, Any]:
        return {"vocab": {"target": self.vocab.vocab_size}, "transcripts": self.config.data.transcripts}

