"""The training loop: teacher forcing over `Decoder.step` (or its proven-equal fused path), validation,
checkpoints, early stopping and exact resume.

Resume restores weights, optimizer, scheduler, step, RNG and the position inside the epoch; the batch order of an
epoch is a pure function of (seed, epoch), so a resumed run repeats an uninterrupted one update for update.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from . import checkpoint as ckpt
from .config import Config
from .data import tasks
from .data.batching import make_batch, plan_batches
from .data.text import Corpus, read_corpus
from .data.tokenizers import Tokenizer, remove_stale_temporaries, save_tokenizers, train_tokenizer
from .devices import precision_context, resolve_device
from .errors import UserError, warn
from .metrics import score
from .model.seq2seq import Seq2Seq
from .search import decode_all, search_options


# ----------------------------------------------------------------------------------------------------------------
# Data

@dataclass
class Dataset:
    """Token ids of the training pairs (filtered) and the validation set (all lines, for BLEU)."""

    train_src: list[list[int]]
    train_tgt: list[list[int]]
    valid_src: list[list[int]]
    valid_tgt: list[list[int]]
    valid_refs: list[str]
    report: str
    valid_truncated: set[int] = field(default_factory=set)   # 1-based lines whose source was cut to max_src_len


def load_corpora(config: Config, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, Corpus]:
    """The training and validation corpora (or only `splits`; synthetic tasks always generate all three)."""
    data = config.data
    if data.synthetic is not None:
        syn = data.synthetic
        generated = tasks.generate(syn.task, {"train": syn.train_size, "valid": syn.valid_size,
                                              "test": syn.test_size}, syn.seed, syn.min_len, syn.max_len, syn.symbols)
        return {k: Corpus(s, t, f"synthetic {syn.task} ({k})") for k, (s, t) in generated.items()}
    names = {"train": data.train, "valid": data.valid}
    corpora = {k: read_corpus(data.root, names[k], data.src_lang, data.tgt_lang) for k in splits}
    if "train" in corpora and "valid" in corpora and corpora["train"].origin == corpora["valid"].origin:
        warn(f"the validation corpus is the training corpus ({corpora['train'].origin}): validation scores will "
             f"not show overfitting")
    return corpora


def build_tokenizers(config: Config, train: Corpus) -> tuple[Tokenizer, Tokenizer]:
    tok = config.tokenizer
    if tok.from_run is not None:
        from .data.tokenizers import load_tokenizers

        return load_tokenizers(Path(tok.from_run) / ckpt.TOKENIZER)
    kwargs = dict(model_type=tok.model_type, vocab_size=tok.vocab_size, character_coverage=tok.character_coverage,
                  min_freq=tok.min_freq, seed=config.train.seed)
    if tok.joint:
        joint = train_tokenizer(tok.type, train.src + train.tgt, **kwargs)
        if tok.per_side_vocab:
            return joint.restricted(train.src), joint.restricted(train.tgt)
        return joint, joint
    return train_tokenizer(tok.type, train.src, **kwargs), train_tokenizer(tok.type, train.tgt, **kwargs)


def encode_data(config: Config, corpora: dict[str, Corpus], src_tok: Tokenizer, tgt_tok: Tokenizer) -> Dataset:
    max_len = config.data.max_len
    train = corpora["train"]
    pairs, empty, long = [], [], []
    for number, (s, t) in enumerate(zip(train.src, train.tgt), start=1):
        si, ti = src_tok.encode(s), tgt_tok.encode(t)
        if not si or not ti:
            empty.append(number)
        elif len(si) > max_len or len(ti) > max_len:
            long.append(number)
        else:
            pairs.append((si, ti))
    if not pairs:
        raise UserError(f"no training pairs left after filtering {train.origin} "
                        f"({len(empty)} with an empty side, {len(long)} longer than data.max_len={max_len})")
    if empty:
        warn(f"{train.origin}: {len(empty):,} training pairs with an empty (or whitespace-only) side are skipped "
             f"(lines {_some(empty)})")
    if long:
        warn(f"{train.origin}: {len(long):,} training pairs longer than data.max_len={max_len} tokens are skipped "
             f"(lines {_some(long)})")
    valid = corpora["valid"]
    valid_src = [src_tok.encode(s) if s.strip() else [] for s in valid.src]
    limit = config.model.max_src_len
    cut = [number for number, ids in enumerate(valid_src, start=1) if len(ids) > limit]
    if cut:   # as translate does: the model reads at most max_src_len tokens
        warn(f"{valid.origin}: {len(cut):,} validation sources longer than model.max_src_len={limit} tokens are "
             f"truncated for decoding and left out of the validation loss (lines {_some(cut)})")
        valid_src = [ids[:limit] for ids in valid_src]
    report = (f"data: {len(pairs):,} training pairs kept of {len(train):,} ({len(empty):,} empty, {len(long):,} "
              f"longer than {max_len} tokens dropped); {len(valid):,} validation pairs; vocabulary "
              f"{src_tok.vocab_size:,} source / {tgt_tok.vocab_size:,} target")
    return Dataset([p[0] for p in pairs], [p[1] for p in pairs], valid_src,
                   [tgt_tok.encode(t) for t in valid.tgt], list(valid.tgt), report, set(cut))


def _some(numbers: list[int], shown: int = 5) -> str:
    return ", ".join(map(str, numbers[:shown])) + (", ..." if len(numbers) > shown else "")


def write_synthetic_splits(run_dir: Path, corpora: dict[str, Corpus]) -> None:
    """Keep the generated data beside the model so `translate`/`evaluate` can be tried on it."""
    folder = run_dir / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for split, corpus in corpora.items():
        for side, lines in (("src", corpus.src), ("tgt", corpus.tgt)):
            ckpt.write_atomic(folder / f"{split}.{side}", "".join(l + "\n" for l in lines).encode("utf-8"))


# ----------------------------------------------------------------------------------------------------------------
# Training

@dataclass
class TrainResult:
    run_dir: Path
    steps: int
    epochs_done: float
    seconds: float
    best: Optional[float]
    last_valid: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""
    skipped_nonfinite: int = 0      # batches skipped because their loss or gradient was not finite


class Logger:
    """Progress to stderr: a tqdm bar on a terminal, a line every `log_every` updates otherwise."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.bar = None

    def line(self, text: str) -> None:
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start_epoch(self, epoch: int, total: int, done: int) -> None:
        if self.verbose and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=f"epoch {epoch}", file=sys.stderr, leave=False,
                            dynamic_ncols=True)

    def update(self, postfix: str) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(postfix, refresh=False)

    def end_epoch(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_scheduler(config: Config, optimizer: torch.optim.Optimizer):
    tc = config.train
    if tc.lr_schedule == "plateau":
        mode = "min" if tc.valid_metric == "loss" else "max"
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=tc.plateau_factor,
                                                          patience=tc.plateau_patience)
    if tc.lr_schedule == "warmup":
        w = tc.warmup_steps
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / w, math.sqrt(w / (s + 1))))
    return None


def better(a: float, b: Optional[float], metric: str) -> bool:
    if b is None:
        return True
    return a < b if metric == "loss" else a > b


@torch.no_grad()
def validate(model: Seq2Seq, data: Dataset, config: Config, tgt_tok: Tokenizer) -> dict[str, Any]:
    """Loss/perplexity (teacher forcing) and greedy BLEU, chrF, exact match on the validation set."""
    model.eval()
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    limit = config.data.max_len    # the teacher-forced loss skips what training would skip
    pairs = [(s, t) for number, (s, t) in enumerate(zip(data.valid_src, data.valid_tgt), start=1)
             if s and t and len(s) <= limit and len(t) <= limit and number not in data.valid_truncated]
    for batch_ids in plan_batches([len(s) for s, _ in pairs], [len(t) for _, t in pairs], epoch=0, seed=0,
                                  batch_sentences=config.decode.batch_size, shuffle=False):
        batch = make_batch([pairs[i][0] for i in batch_ids], [pairs[i][1] for i in batch_ids]).to(device)
        total += float(model(batch))
        tokens += batch.n_tokens
    dec = config.decode
    hyps = decode_all(model, data.valid_src, search_options(dec, beam_size=1, attention=False),
                      batch_size=dec.batch_size, device=device)
    texts = [tgt_tok.decode(h[0].tokens) if h else "" for h in hyps]
    s = score(texts, data.valid_refs)
    model.train()
    loss = total / max(1, tokens)
    return {"loss": round(loss, 4), "ppl": round(math.exp(min(loss, 50)), 2), "bleu": s.bleu, "chrf": s.chrf,
            "accuracy": s.exact_match}


@torch.no_grad()
def plot_validation_attention(model: Seq2Seq, data: Dataset, config: Config, src_tok: Tokenizer, tgt_tok: Tokenizer,
                              folder: Path, step: int) -> None:
    """Heatmaps of the first `train.attention_plots` validation sentences (greedy), one folder per sentence:
    folder/valNN/stepNNNNNNN.png (+ .json), so the same sentence can be followed as attention sharpens."""
    from .plot import save_heatmap

    count = config.train.attention_plots
    chosen = [i for i, s in enumerate(data.valid_src) if s][:count]
    if not chosen or not model.decoder.has_attention:
        return
    model.eval()
    device = next(model.parameters()).device
    sources = [data.valid_src[i] for i in chosen]
    hyps = decode_all(model, sources, search_options(config.decode, beam_size=1), batch_size=len(sources),
                      device=device)
    model.train()
    for i, src, h in zip(chosen, sources, hyps):
        tokens = tgt_tok.pieces(h[0].tokens) + (["</s>"] if h[0].finished else [])
        save_heatmap(folder / f"val{i + 1:02d}" / f"step{step:07d}", src_tok.pieces(src), tokens,
                     h[0].attention.numpy(), title=f"step {step:,}: {tgt_tok.decode(h[0].tokens)}")


def train(config: Config, run_dir: str | Path, *, resume: bool = False, verbose: bool = True,
          on_step: Optional[Callable[[int, float], None]] = None) -> TrainResult:
    """Train `config` into `run_dir` (or continue the run there with resume=True).

    on_step(step, loss): called after every update (tests record losses with it).
    """
    run_dir = Path(run_dir)
    log = Logger(verbose)
    tc = config.train
    if tc.threads:
        torch.set_num_threads(tc.threads)
    device = resolve_device(tc.device)

    corpora = load_corpora(config)
    if resume:
        state = ckpt.load_train_state(run_dir / ckpt.TRAIN_STATE)
        src_tok, tgt_tok = ckpt.tokenizers_of(run_dir)
    else:
        if (run_dir / ckpt.TRAIN_STATE).exists():
            raise UserError(f"{run_dir} already holds a training run; use --resume to continue it, or choose "
                            f"another --run-dir")
        state = None
        src_tok, tgt_tok = build_tokenizers(config, corpora["train"])
        ckpt.write_run_header(run_dir, config)
        save_tokenizers(run_dir / ckpt.TOKENIZER, src_tok, tgt_tok)
        if config.data.synthetic is not None:
            write_synthetic_splits(run_dir, corpora)
        (run_dir / ckpt.METRICS).unlink(missing_ok=True)
    if resume:
        ckpt.write_run_header(run_dir, config)   # overrides given with --resume (e.g. more epochs) are recorded
    for folder in (run_dir, run_dir / ckpt.CHECKPOINTS):   # half-written files of a killed run
        remove_stale_temporaries(folder)
    data = encode_data(config, corpora, src_tok, tgt_tok)

    torch.manual_seed(tc.seed)
    model = Seq2Seq(config.model, src_tok.vocab_size, tgt_tok.vocab_size).to(device)
    # fused: one kernel over all parameters (≈3x less optimizer time on a CPU than the per-tensor loop)
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, betas=tc.adam_betas, weight_decay=tc.weight_decay,
                                 fused=True)
    scheduler = make_scheduler(config, optimizer)
    step, epoch, batch_in_epoch = 0, 1, 0
    best, patience_best, bad_validations = None, None, 0
    nonfinite_total, nonfinite_in_row = 0, 0   # batches skipped for a non-finite loss or gradient
    if state is not None:
        ckpt.apply_weights(model, state["model"], run_dir / ckpt.TRAIN_STATE)
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        step, epoch, batch_in_epoch = int(state["step"]), int(state["epoch"]), int(state["batch_in_epoch"])
        best, patience_best = state.get("best"), state.get("patience_best")
        bad_validations = int(state["bad_validations"])
        nonfinite_total, nonfinite_in_row = int(state.get("nonfinite", 0)), int(state.get("nonfinite_in_row", 0))
        if state.get("base_lr") is not None and float(state["base_lr"]) != tc.lr:
            # train.lr changed on resume (e.g. after a divergence): it replaces the saved (possibly decayed) rate
            factor = 1.0
            if isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):     # warm-up: same place, new peak
                scheduler.base_lrs = [tc.lr for _ in scheduler.base_lrs]
                factor = scheduler.lr_lambdas[0](scheduler.last_epoch)
            for group in optimizer.param_groups:
                group["lr"] = tc.lr * factor
            log.line(f"learning rate set to train.lr={tc.lr:g} (the run was saved with {float(state['base_lr']):g})")
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        ckpt.truncate_metrics(run_dir, step)
        log.line(f"resuming {run_dir} at step {step} (epoch {epoch}, batch {batch_in_epoch})")
    log.line(data.report)
    dec = config.model.decoder
    family = dec.family
    log.line(f"model: {family} decoder, {config.model.encoder.rnn}/{dec.rnn}, "
             f"{model.num_parameters():,} parameters, on {device}; run directory {run_dir}")

    try:
        metrics_file = (run_dir / ckpt.METRICS).open("a", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {run_dir / ckpt.METRICS}: {exc.strerror}") from None

    def emit(event: dict[str, Any]) -> None:
        try:
            metrics_file.write(json.dumps(event) + "\n")
            metrics_file.flush()
        except OSError as exc:
            raise UserError(f"cannot write {run_dir / ckpt.METRICS}: {exc.strerror}") from None

    saved_step = step if state is not None else None

    def save(kind: str) -> None:
        nonlocal saved_step
        if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):   # never checkpoint broken weights
            metrics_file.close()
            raise UserError(f"training stopped: the weights became non-finite at update {step}; the last checkpoint "
                            f"(update {saved_step}) is intact in {run_dir}: resume it with a lower learning rate, "
                            f"e.g. --resume --set train.lr={tc.lr / 10:g}")
        # the training state first: it is what --resume reads, and last.safetensors is never ahead of it
        ckpt.save_train_state(run_dir / ckpt.TRAIN_STATE, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "step": step, "epoch": epoch, "batch_in_epoch": batch_in_epoch, "best": best,
            "patience_best": patience_best, "bad_validations": bad_validations, "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None, "kind": kind,
            "nonfinite": nonfinite_total, "nonfinite_in_row": nonfinite_in_row, "base_lr": tc.lr})
        ckpt.save_weights(run_dir / ckpt.LAST, model, step)
        saved_step = step

    def run_validation(scheduled: bool) -> dict[str, Any]:
        nonlocal best, patience_best, bad_validations, last_valid_step
        result = validate(model, data, config, tgt_tok)
        if tc.attention_plots:
            plot_validation_attention(model, data, config, src_tok, tgt_tok, run_dir / ckpt.ATTENTION, step)
        value = result[tc.valid_metric]
        is_best = better(value, best, tc.valid_metric)
        if is_best:
            best = value
            ckpt.save_weights(run_dir / ckpt.BEST, model, step)
        if scheduled:
            ckpt.save_snapshot(run_dir, model, step, tc.valid_metric, value, tc.keep_checkpoints)
            if better(value, patience_best, tc.valid_metric):
                patience_best, bad_validations = value, 0
            else:
                bad_validations += 1
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(value)
        last_valid_step = step
        emit({"event": "valid", "step": step, "epoch": epoch_of_step, **result, "lr": optimizer.param_groups[0]["lr"],
              "best": is_best, "time": round(time.time() - started, 1)})
        log.line(f"valid step {step:,} | loss {result['loss']:.3f} ppl {result['ppl']:.2f} | BLEU {result['bleu']:.2f} "
                 f"chrF {result['chrf']:.2f} exact {result['accuracy']:.1f}%" + (" | best" if is_best else ""))
        return result

    started = time.time()
    epoch_of_step = epoch
    last_valid: dict[str, Any] = {}
    last_valid_step = step if state is not None and state.get("kind") in ("validation", "final") else -1
    plan: list[list[int]] = []
    stopped = ""
    window_tokens, window_start, window_loss, window_steps = 0, time.time(), 0.0, 0
    max_steps = tc.max_steps
    if state is None:
        save("start")       # from here on the run directory is loadable and resumable, whenever it is killed
    model.train()
    while not stopped:
        if epoch > tc.epochs:
            stopped = f"reached {tc.epochs} epochs"
            break
        plan = plan_batches([len(s) for s in data.train_src], [len(t) for t in data.train_tgt], epoch=epoch,
                            seed=tc.seed, batch_sentences=tc.batch_sentences, batch_tokens=tc.batch_tokens)
        log.start_epoch(epoch, len(plan), batch_in_epoch)
        while batch_in_epoch < len(plan):
            if max_steps is not None and step >= max_steps:
                stopped = f"reached {max_steps} steps"
                break
            ids = plan[batch_in_epoch]
            batch = make_batch([data.train_src[i] for i in ids], [data.train_tgt[i] for i in ids]).to(device)
            teacher = 1.0 if tc.scheduled_sampling is None else tc.scheduled_sampling.teacher_prob(step)
            with precision_context(tc.precision, device):
                loss = model(batch, tc.label_smoothing, teacher)
            loss_sum = float(loss.detach())
            finite = math.isfinite(loss_sum)
            if finite:
                (loss / batch.n_tokens).backward()
                if tc.clip_norm is not None:
                    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip_norm)
                    finite = bool(torch.isfinite(norm))
            if finite:
                optimizer.step()
                if isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):
                    scheduler.step()
                step += 1
                nonfinite_in_row = 0
            optimizer.zero_grad(set_to_none=True)
            batch_in_epoch += 1
            if not finite:
                nonfinite_total += 1
                nonfinite_in_row += 1
                what = f"loss {loss_sum}" if not math.isfinite(loss_sum) else "gradient norm " + str(float(norm))
                emit({"event": "nonfinite", "step": step, "epoch": epoch, "batch": batch_in_epoch, "what": what,
                      "in_a_row": nonfinite_in_row, "total": nonfinite_total})
                warn(f"non-finite {what} at update {step + 1} (epoch {epoch}, batch {batch_in_epoch}): update "
                     f"skipped ({nonfinite_in_row} in a row, {nonfinite_total} in this run)")
                if nonfinite_in_row >= tc.max_nonfinite:
                    metrics_file.close()
                    raise UserError(
                        f"training stopped: {nonfinite_in_row} non-finite losses in a row (train.max_nonfinite="
                        f"{tc.max_nonfinite}) at update {step + 1}; the last checkpoint (update {saved_step}) is "
                        f"intact in {run_dir}: resume it with a lower learning rate, e.g. --resume --set "
                        f"train.lr={tc.lr / 10:g}")
            else:
                token_loss = loss_sum / batch.n_tokens
                if on_step is not None:
                    on_step(step, token_loss)
                window_tokens += batch.n_tokens
                window_loss += token_loss
                window_steps += 1
                lr = optimizer.param_groups[0]["lr"]
                elapsed = max(1e-9, time.time() - window_start)
                log.update(f"loss {token_loss:.3f} lr {lr:.1e} {window_tokens / elapsed:,.0f} tok/s")
                if step % tc.log_every == 0:
                    event = {"event": "train", "step": step, "epoch": epoch,
                             "loss": round(window_loss / window_steps, 4), "lr": lr,
                             "tokens_per_s": round(window_tokens / elapsed, 1),
                             **({"teacher_prob": round(teacher, 4)} if tc.scheduled_sampling is not None else {}),
                             "time": round(time.time() - started, 1)}
                    emit(event)
                    if not sys.stderr.isatty():
                        log.line(f"step {step:,} epoch {epoch} | loss {event['loss']:.3f} | lr {lr:.1e} | "
                                 f"{event['tokens_per_s']:,.0f} tok/s")
                    window_tokens, window_start, window_loss, window_steps = 0, time.time(), 0.0, 0
            end_of_epoch = batch_in_epoch == len(plan)
            epoch_of_step = epoch
            if end_of_epoch:
                epoch, batch_in_epoch = epoch + 1, 0
            if (tc.valid_every and finite and step % tc.valid_every == 0) or (not tc.valid_every and end_of_epoch):
                last_valid = run_validation(scheduled=True)
                save("validation")
                if tc.stop_at is not None and (last_valid[tc.valid_metric] <= tc.stop_at if tc.valid_metric == "loss"
                                               else last_valid[tc.valid_metric] >= tc.stop_at):
                    stopped = f"reached {tc.valid_metric} {last_valid[tc.valid_metric]} (train.stop_at={tc.stop_at})"
                elif tc.patience is not None and bad_validations >= tc.patience:
                    stopped = f"no improvement in {tc.patience} validations (early stopping)"
                elif tc.lr_schedule == "plateau" and optimizer.param_groups[0]["lr"] < tc.min_lr:
                    stopped = f"learning rate fell below train.min_lr={tc.min_lr}"
            elif tc.save_every and finite and step % tc.save_every == 0:
                save("periodic")
            if stopped or end_of_epoch:
                break
        log.end_epoch()
    if last_valid_step != step:
        last_valid = run_validation(scheduled=False)
    save("final")
    emit({"event": "end", "step": step, "reason": stopped, "time": round(time.time() - started, 1)})
    metrics_file.close()
    skipped = f" ({nonfinite_total} batches skipped for non-finite values)" if nonfinite_total else ""
    log.line(f"stopped: {stopped}; {step:,} updates{skipped} in {time.time() - started:.0f} s; best "
             f"{tc.valid_metric} {best}; weights in {run_dir}")
    return TrainResult(run_dir, step, epoch - 1 + batch_in_epoch / max(1, len(plan)), time.time() - started, best,
                       last_valid, stopped, nonfinite_total)


def finished(run_dir: str | Path) -> bool:
    """Whether the training run in `run_dir` ran to its end (its metrics log closes with an `end` event)."""
    return any(m.get("event") == "end" for m in ckpt.read_metrics(Path(run_dir)))


def ensure_trained(config: Config, run_dir: str | Path, verbose: bool = False) -> None:
    """Bring `run_dir` to a finished run of `config`: nothing if it finished, resume it if it was interrupted,
    else train it (experiments and benchmarks call this, so a killed script picks up where it stopped)."""
    run_dir = Path(run_dir)
    if not finished(run_dir):
        train(config, run_dir, resume=(run_dir / ckpt.TRAIN_STATE).is_file(), verbose=verbose)
