"""The training loop: teacher forcing over the task's model, validation, checkpoints, early stopping and exact
resume.

Resume restores weights, optimizer, scheduler, step, RNG and the position inside the epoch; the batch order of an
epoch is a pure function of (seed, epoch), so a resumed run repeats an uninterrupted one update for update.

Under torchrun every process runs this loop on its share of each epoch's batches (`distributed.World`): the
decisions that change which collectives run are taken together, rank 0 alone validates and writes the run
directory, and the others take its outcome.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence

import torch
from torch import Tensor

from .. import checkpoint as ckpt
from ..config import Config
from ..data.batching import plan_batches
from ..devices import precision_context, resolve_device
from ..errors import UserError, warn
from ..files import remove_stale_temporaries
from ..rundir import RunDir
from ..tasks import get_task
from ..tasks.base import Splits, Vocab
from ..threads import CoreShare
from .distributed import World
from .optim import budget_lr, make_optimizer, make_scheduler, set_base_lr, set_lr
from .progress import EventLog, Logger, NoEvents, Window
from .signals import StopRequests
from .state import SavedTraining, TrainingState
from .tensorboard import TensorBoardWriter

OnStep = Callable[[int, float], None]     # (update, mean loss per token of its batch)


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
    interrupted: bool = False       # stopped by Ctrl-C or SIGTERM (a resumable checkpoint was saved)


@dataclass
class Validated:
    """What a validation on rank 0 tells the other processes."""

    result: dict[str, Any]                  # the task's metrics
    state: dict[str, Any]                   # TrainingState's fields (best, patience counters)
    lrs: list[float]                        # per parameter group, as the plateau schedule left them
    scheduler: Optional[dict[str, Any]]     # the plateau schedule's state (None for other schedules)


class Trainer:
    """One training run into `run_dir`. Constructing it reads the data, prepares the run directory (or checks and
    restores the run there, resume=True) and builds the model; `run()` trains until a stop condition."""

    def __init__(self, config: Config, run_dir: str | Path, *, resume: bool = False, verbose: bool = True,
                 on_step: Optional[OnStep] = None):
        self.config, self.tc, self.run_dir = config, config.train, Path(run_dir)
        self.task = get_task(config)
        self.metric = self.task.primary_metric
        if self.tc.threads:
            torch.set_num_threads(self.tc.threads)
        device = resolve_device(self.tc.device)
        self.world = World.from_environment(device)
        self.device = self.world.place(device)
        sharing = self.tc.share_cores and self.device.type == "cpu"
        self.cores = CoreShare(torch.get_num_threads() if sharing else 1)   # the thread count follows free cores
        self.log, self.on_step = Logger(verbose and self.world.main), on_step
        saved = self.prepare_data(resume)
        self.build_model()
        self.state = TrainingState()
        self.saved_step: Optional[int] = None     # the update the checkpoint on disk holds
        self.saved_at = time.time()               # when it was written (train.save_minutes counts from here)
        self.last_valid_step = -1                 # the update validated last
        if saved is not None:
            self.restore(saved)
        self.log.line(self.data.report)
        self.log.line(f"model: {self.task.describe_model(self.model)}, on {self.device}; run directory {self.run_dir}")
        self.events = self.open_events()
        self.plan: list[list[int]] = []           # this process's batches of the epoch in progress
        self.epoch_of_step = self.state.epoch     # the epoch the last update belongs to
        self.last_valid: dict[str, Any] = {}
        self.stopped = ""                         # why training stops; "" while it goes on
        self.requests = StopRequests()            # the signals received while run() runs
        self.started, self.window = time.time(), Window()
        self.stop_asked = False                   # a stop signal reached some process (agreed at each update)
        self.save_asked = False                   # train.save_minutes passed on rank 0's clock (agreed likewise)
        self.earlier_seconds = self.state.train_seconds   # training time of the sessions before this one
        self.clock_used = self.clock_fraction(self.earlier_seconds)   # of train.max_minutes (agreed at each update)

    def prepare_data(self, resume: bool) -> Optional[SavedTraining]:
        """Read and encode the data; start the run directory, or open it (then its checkpoint is returned)."""
        splits = self.task.read_data()
        saved = None
        if resume:
            saved, self.vocab = self.open_run_dir()
        else:
            self.vocab = self.start_run_dir(splits)
        self.world.on_main(self.remove_temporaries)
        self.data = self.task.encode(splits, self.vocab)
        return saved

    def build_model(self) -> None:
        torch.manual_seed(self.tc.seed)           # the initial weights are a function of train.seed
        self.model = self.task.build_model(self.vocab).to(self.device)
        self.net = self.world.wrap(self.model)    # what forward and backward go through: the model, or DDP over it
        if self.world.distributed:                # dropout draws differ between processes
            torch.manual_seed(self.tc.seed + 1_000_003 * self.world.rank)
        self.optimizer = make_optimizer(self.tc, self.model)
        self.scheduler = make_scheduler(self.tc, self.optimizer, self.metric)

    # ---- the run directory --------------------------------------------------------------------------------------

    def open_events(self) -> EventLog | NoEvents:
        if not self.world.main:
            return NoEvents()
        mirrors = [TensorBoardWriter(self.run_dir, self.state.step)] if self.tc.tensorboard else []
        return EventLog(RunDir(self.run_dir).metrics, mirrors)

    def start_run_dir(self, splits: Splits) -> Vocab:
        """A new run (written by rank 0; the other processes read its vocabularies when it is done)."""
        vocab = self.world.on_main(lambda: self.write_run_dir(splits))
        return vocab if vocab is not None else self.task.load_vocab(self.run_dir)

    def write_run_dir(self, splits: Splits) -> Vocab:
        """The config, and vocabularies built from the data (a run already there is refused)."""
        if (RunDir(self.run_dir).train_state).exists():
            raise UserError(f"{self.run_dir} already holds a training run; use --resume to continue it, or choose "
                            f"another --run-dir")
        RunDir(self.run_dir).create()                  # before the vocabularies: a bad --run-dir fails fast
        vocab = self.task.build_vocab(splits)
        ckpt.write_run_header(self.run_dir, self.config)
        self.task.save_vocab(self.run_dir, vocab)
        self.task.save_data(self.run_dir, splits)
        (RunDir(self.run_dir).metrics).unlink(missing_ok=True)
        return vocab

    def open_run_dir(self) -> tuple[SavedTraining, Vocab]:
        """A resumed run: its checkpoint and vocabularies; the config given now is recorded (e.g. more epochs)."""
        if ckpt.check_format(self.run_dir) == 1:   # its optimizer state follows the old parameter order
            raise UserError(f"{self.run_dir} was written by an earlier version (run-directory format 1): it loads, "
                            f"translates and averages as before, but its training cannot resume here; start a new "
                            f"run (--set tokenizer.from_run={self.run_dir} keeps its vocabulary)")
        saved = SavedTraining.load(RunDir(self.run_dir).train_state)
        vocab = self.task.load_vocab(self.run_dir)
        self.world.on_main(lambda: ckpt.write_run_header(self.run_dir, self.config))
        return saved, vocab

    def remove_temporaries(self) -> None:
        for folder in (self.run_dir, RunDir(self.run_dir).checkpoints):   # half-written files of a killed run
            remove_stale_temporaries(folder)

    def restore(self, saved: SavedTraining) -> None:
        """Continue where `saved` stopped: weights, optimizer, scheduler, counters, random generators."""
        ckpt.apply_weights(self.model, saved.model, RunDir(self.run_dir).train_state)
        self.optimizer.load_state_dict(saved.optimizer)
        if self.scheduler is not None and saved.scheduler is not None:
            self.scheduler.load_state_dict(saved.scheduler)
        self.state = s = saved.training_state()
        self.adopt_position(saved.world_size)
        if saved.base_lr is not None and float(saved.base_lr) != self.tc.lr:
            set_base_lr(self.optimizer, self.scheduler, self.tc.lr)
            self.log.line(f"learning rate set to train.lr={self.tc.lr:g} (the run was saved with "
                          f"{float(saved.base_lr):g})")
        cpu_rng, cuda_rng = saved.rngs_of(self.world.rank, self.world.size)
        if cpu_rng is not None:
            torch.set_rng_state(cpu_rng)
        if self.device.type == "cuda" and cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, self.device)
        self.world.on_main(lambda: ckpt.truncate_metrics(self.run_dir, s.step))
        self.saved_step = s.step
        self.last_valid_step = s.step if saved.kind in ("validation", "final") else -1
        self.log.line(f"resuming {self.run_dir} at step {s.step} (epoch {s.epoch}, batch {s.batch_in_epoch})")

    def adopt_position(self, saved_world: int) -> None:
        """A run saved by another number of processes: its place in the epoch, in this world's batches."""
        world = self.world.size
        if saved_world == world:
            return
        self.state.batch_in_epoch = self.state.batch_in_epoch * saved_world // world
        warn(f"{self.run_dir} was trained by {saved_world} process(es) and resumes with {world}: the batches from "
             f"here on differ from an uninterrupted run's (resume with {saved_world} to repeat it exactly)")

    def save(self, kind: str) -> None:
        """Checkpoint: the training state first (it is what --resume reads, and last.safetensors is never ahead of
        it), then the weights. Non-finite weights are never saved: training stops, the last checkpoint intact.
        Every process comes here together (their random generators go into the file); rank 0 writes."""
        if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            self.diverged(f"the weights became non-finite at update {self.state.step}")
        self.state.train_seconds = self.training_seconds()
        rngs = self.world.gather(self.rng_states())
        self.world.on_main(lambda: self.write_checkpoint(kind, rngs))
        self.saved_step, self.saved_at = self.state.step, time.time()

    def write_checkpoint(self, kind: str, rngs: list[tuple[Tensor, Optional[Tensor]]]) -> None:
        self.snapshot(kind, rngs).save(RunDir(self.run_dir).train_state)
        ckpt.save_weights(RunDir(self.run_dir).last, self.model, self.state.step)

    def rng_states(self) -> tuple[Tensor, Optional[Tensor]]:
        """This process's random generators: the CPU one, and the CUDA one on a GPU."""
        cuda_rng = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda_rng

    def snapshot(self, kind: str, rngs: list[tuple[Tensor, Optional[Tensor]]]) -> SavedTraining:
        """What train_state.pt holds now: the counters and the live objects' states (rngs: one pair per rank)."""
        scheduler = self.scheduler.state_dict() if self.scheduler is not None else None
        ranks = {"rank_rngs": [cpu for cpu, _ in rngs], "rank_cuda_rngs": [cuda for _, cuda in rngs]} \
            if self.world.distributed else {}
        return SavedTraining(**asdict(self.state), kind=kind, base_lr=self.tc.lr, model=self.model.state_dict(),
                             optimizer=self.optimizer.state_dict(), scheduler=scheduler, rng=rngs[0][0],
                             cuda_rng=rngs[0][1], world_size=self.world.size, **ranks)

    def diverged(self, what: str) -> NoReturn:
        self.events.close()
        raise UserError(f"training stopped: {what}; the last checkpoint (update {self.saved_step}) is intact in "
                        f"{self.run_dir}: resume it with a lower learning rate, e.g. --resume --set "
                        f"train.lr={self.tc.lr / 10:g}")

    # ---- the loop -----------------------------------------------------------------------------------------------

    def run(self) -> TrainResult:
        self.started = time.time()
        self.window = Window()
        with self.requests:
            if self.saved_step is None:
                self.save("start")   # from here on the run directory is loadable and resumable, whenever it is killed
            self.model.train()
            while not self.stopped:
                self.stopped = self.epochs_done()
                if not self.stopped:
                    self.run_epoch()
            return self.interrupted() if self.stop_asked else self.finish()

    def run_epoch(self) -> None:
        """The batches of the epoch in progress, from where it stands to its end or a stop."""
        s = self.state
        self.plan = self.world.share(plan_batches(*self.data.train_lengths(), epoch=s.epoch, seed=self.tc.seed,
                                                  batch_sentences=self.tc.batch_sentences,
                                                  batch_tokens=self.tc.batch_tokens,
                                                  shortest_first=self.tc.sortagrad and s.epoch == 1))
        self.log.start_epoch(s.epoch, len(self.plan), s.batch_in_epoch)
        while s.batch_in_epoch < len(self.plan):
            self.stopped = self.steps_done()
            if self.stopped:
                break
            finite = self.train_step(self.plan[s.batch_in_epoch])
            end_of_epoch = s.batch_in_epoch == len(self.plan)
            self.epoch_of_step = s.epoch
            if end_of_epoch:
                s.epoch, s.batch_in_epoch = s.epoch + 1, 0
            self.after_update(finite, end_of_epoch)
            if self.stopped or end_of_epoch:
                break
        self.log.end_epoch()

    def train_step(self, ids: Sequence[int]) -> bool:
        """One batch: loss, gradient, update. False (and no update) when the loss or the gradient is not finite."""
        batch = self.data.train_batch(ids).to(self.device)
        teacher = self.teacher_prob()
        with precision_context(self.tc.precision, self.device):
            loss = self.net(batch, self.tc.label_smoothing, teacher, self.state.step)   # summed over the tokens
        loss_sum, n_tokens = self.agree(float(loss.detach()), batch.n_tokens)
        problem = self.backward(loss, loss_sum, n_tokens)
        if not problem:
            self.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.batch_in_epoch += 1
        if problem:
            self.skip(problem)
        else:
            self.record(loss_sum / n_tokens, n_tokens, teacher)
        return not problem

    def agree(self, loss_sum: float, n_tokens: int) -> tuple[float, int]:
        """The loss and tokens of this update summed over processes (a loss not finite on one is not finite for
        all, so every process skips that update); alone, the values themselves."""
        loss_sum, tokens = self.world.sum([loss_sum, n_tokens])
        return loss_sum, int(tokens)

    def agree_on_requests(self) -> None:
        """After an update, what every process must decide alike: a stop signal that reached any of them, a
        checkpoint due and the time budget spent, both by rank 0's clock (train.save_minutes, train.max_minutes)."""
        stop = float(self.requests.received is not None)
        due = float(self.world.main and self.save_due())
        used = self.clock_fraction(self.training_seconds()) if self.world.main else 0.0
        stop, due, self.clock_used = self.world.sum([stop, due, used])
        self.stop_asked, self.save_asked = stop > 0, due > 0

    def teacher_prob(self) -> float:
        sampling = self.tc.scheduled_sampling
        return 1.0 if sampling is None else sampling.teacher_prob(self.state.step)

    def backward(self, loss: Tensor, loss_sum: float, n_tokens: int) -> str:
        """Gradients of the mean loss per token, clipped; what was not finite, or "" when all was.

        loss: this process's sum; loss_sum, n_tokens: all processes'. DDP averages the processes' gradients, so
        each backpropagates size × its sum / all tokens: the mean is the gradient of one process on the union."""
        if not math.isfinite(loss_sum):
            return f"loss {loss_sum}"
        (loss / (n_tokens / self.world.size)).backward()
        if self.tc.clip_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tc.clip_norm)
            if not bool(torch.isfinite(norm)):
                return "gradient norm " + str(float(norm))
        return ""

    def update(self) -> None:
        if self.tc.lr_schedule == "budget":
            set_lr(self.optimizer, budget_lr(self.tc, self.budget_used()))
        self.optimizer.step()
        if isinstance(self.scheduler, torch.optim.lr_scheduler.LambdaLR):    # warm-up: per update
            self.scheduler.step()
        self.state.step += 1
        self.state.nonfinite_in_row = 0

    def skip(self, what: str) -> None:
        """A batch whose loss or gradient was not finite: no update; train.max_nonfinite in a row stop training."""
        s = self.state
        s.nonfinite += 1
        s.nonfinite_in_row += 1
        self.events.emit({"event": "nonfinite", "step": s.step, "epoch": s.epoch, "batch": s.batch_in_epoch,
                          "what": what, "in_a_row": s.nonfinite_in_row, "total": s.nonfinite})
        warn(f"non-finite {what} at update {s.step + 1} (epoch {s.epoch}, batch {s.batch_in_epoch}): update "
             f"skipped ({s.nonfinite_in_row} in a row, {s.nonfinite} in this run)")
        if s.nonfinite_in_row >= self.tc.max_nonfinite:
            self.diverged(f"{s.nonfinite_in_row} non-finite losses in a row (train.max_nonfinite="
                          f"{self.tc.max_nonfinite}) at update {s.step + 1}")

    def record(self, token_loss: float, tokens: int, teacher: float) -> None:
        """After an update: on_step, the thread count, the progress bar, and every train.log_every updates a
        `train` event."""
        if self.on_step is not None:
            self.on_step(self.state.step, token_loss)
        self.window.add(tokens, token_loss)
        self.follow_free_cores()
        lr, elapsed = self.lr, self.window.elapsed()
        self.log.update(f"loss {token_loss:.3f} lr {lr:.1e} {self.window.tokens / elapsed:,.0f} tok/s")
        if self.state.step % self.tc.log_every == 0:
            self.log_window(lr, elapsed, teacher)

    def follow_free_cores(self) -> None:
        """train.share_cores: now and then, the thread count the other processes' use of the cores leaves."""
        threads, most = self.cores.poll(), self.cores.most
        if threads is not None:
            self.log.line(f"step {self.state.step:,}: " + (f"cores free again, training on {threads} threads"
                          if threads == most else f"other processes keep cores busy, training on {threads} of "
                                                  f"{most} threads"))

    def log_window(self, lr: float, elapsed: float, teacher: float) -> None:
        s, w = self.state, self.window
        event = {"event": "train", "step": s.step, "epoch": s.epoch, "loss": round(w.loss / w.steps, 4), "lr": lr,
                 "tokens_per_s": round(w.tokens / elapsed, 1),
                 **({"threads": self.cores.threads} if self.cores.most > 1 else {}),
                 **({"teacher_prob": round(teacher, 4)} if self.tc.scheduled_sampling is not None else {}),
                 "time": round(time.time() - self.started, 1)}
        self.events.emit(event)
        if not sys.stderr.isatty():
            self.log.line(f"step {s.step:,} epoch {s.epoch} | loss {event['loss']:.3f} | lr {lr:.1e} | "
                          f"{event['tokens_per_s']:,.0f} tok/s")
        self.window = Window()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def after_update(self, finite: bool, end_of_epoch: bool) -> None:
        """A validation (and checkpoint) when one is due, else a checkpoint when train.save_every says so."""
        tc, step = self.tc, self.state.step
        self.agree_on_requests()
        if (tc.valid_every and finite and step % tc.valid_every == 0) or (not tc.valid_every and end_of_epoch):
            self.last_valid = self.validate(scheduled=True)
            self.save("validation")
            self.stopped = self.should_stop(self.last_valid)
        elif (tc.save_every and finite and step % tc.save_every == 0) or self.save_asked:
            self.save("periodic")
        if not self.stopped and self.out_of_time:
            self.stopped = f"reached train.max_minutes={self.tc.max_minutes:g}"
        if not self.stopped and self.stop_asked:
            self.stopped = f"interrupted by {self.requests.received or 'a signal to another process'}"

    def training_seconds(self) -> float:
        """The run's training wall clock: earlier sessions' (to their last checkpoints) and this one's."""
        return self.earlier_seconds + time.time() - self.started

    @property
    def out_of_time(self) -> bool:
        """train.max_minutes spent, by rank 0's clock as agreed at the last update."""
        return self.clock_used >= 1

    def clock_fraction(self, seconds: float) -> float:
        """The fraction of train.max_minutes that `seconds` of training are (0 without a time budget)."""
        minutes = self.tc.max_minutes
        return 0.0 if minutes is None else seconds / (60 * minutes)

    def budget_used(self) -> float:
        """The fraction of the run's budget spent before this update: the largest of its epochs, max_steps and
        max_minutes (by rank 0's clock at the last update, so every process computes the same rate)."""
        s, tc = self.state, self.tc
        epochs = (s.epoch - 1 + s.batch_in_epoch / max(len(self.plan), 1)) / tc.epochs
        steps = s.step / tc.max_steps if tc.max_steps else 0.0
        return max(epochs, steps, self.clock_used)

    def save_due(self) -> bool:
        minutes = self.tc.save_minutes
        return minutes is not None and time.time() - self.saved_at >= 60 * minutes

    # ---- validation and stopping --------------------------------------------------------------------------------

    def validate(self, scheduled: bool) -> dict[str, Any]:
        """The task's validation, on rank 0; the other processes take its outcome (the counters it moved, the
        learning rate it set), so their decisions to stop match."""
        outcome = self.world.from_main(lambda: self.validate_here(scheduled))
        if not self.world.main:
            self.adopt(outcome)
        self.last_valid_step = self.state.step
        return outcome.result

    def adopt(self, outcome: "Validated") -> None:
        self.state = TrainingState(**outcome.state)
        for group, lr in zip(self.optimizer.param_groups, outcome.lrs):
            group["lr"] = lr
        if outcome.scheduler is not None:
            self.scheduler.load_state_dict(outcome.scheduler)

    def validate_here(self, scheduled: bool) -> "Validated":
        """The task's validation; best.safetensors when the primary metric improves. A scheduled validation also
        keeps a snapshot and counts towards early stopping and the plateau schedule (the one after the loop
        does not)."""
        s = self.state
        result = self.task.validate(self.model, self.data, self.vocab)
        self.task.after_validation(self.model, self.data, self.vocab, self.run_dir, s.step)
        value = result[self.metric.name]
        is_best = self.metric.better(value, s.best)
        if is_best:
            s.best = value
            ckpt.save_weights(RunDir(self.run_dir).best, self.model, s.step)
        if scheduled:
            self.count_validation(value)
        self.events.emit({"event": "valid", "step": s.step, "epoch": self.epoch_of_step, **result, "lr": self.lr,
                          "best": is_best, "time": round(time.time() - self.started, 1)})
        self.log.line(f"valid step {s.step:,} | {self.task.summarize(result)}" + (" | best" if is_best else ""))
        plateau = isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        return Validated(result, asdict(s), [g["lr"] for g in self.optimizer.param_groups],
                         self.scheduler.state_dict() if plateau else None)

    def count_validation(self, value: float) -> None:
        s = self.state
        ckpt.save_snapshot(self.run_dir, self.model, s.step, self.metric.name, value, self.tc.keep_checkpoints)
        if self.metric.better(value, s.patience_best):
            s.patience_best, s.bad_validations = value, 0
        else:
            s.bad_validations += 1
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(value)

    def should_stop(self, result: dict[str, Any]) -> str:
        """Why training stops after this validation ("" when it goes on)."""
        tc, name = self.tc, self.metric.name
        if tc.stop_at is not None and self.metric.reached(result[name], tc.stop_at):
            return f"reached {name} {result[name]} (train.stop_at={tc.stop_at})"
        if tc.patience is not None and self.state.bad_validations >= tc.patience:
            return f"no improvement in {tc.patience} validations (early stopping)"
        if tc.lr_schedule == "plateau" and self.lr < tc.min_lr:
            return f"learning rate fell below train.min_lr={tc.min_lr}"
        return ""

    def epochs_done(self) -> str:
        return f"reached {self.tc.epochs} epochs" if self.state.epoch > self.tc.epochs else ""

    def steps_done(self) -> str:
        """A budget spent before the next update: train.max_steps, or train.max_minutes (a resumed run may start
        with its time spent, and then makes no update)."""
        limit = self.tc.max_steps
        if limit is not None and self.state.step >= limit:
            return f"reached {limit} steps"
        return f"reached train.max_minutes={self.tc.max_minutes:g}" if self.out_of_time else ""

    def interrupted(self) -> TrainResult:
        """Stopped by a signal: a resumable checkpoint of the last update (no validation: the user is waiting)."""
        s = self.state
        if self.saved_step != s.step:
            self.save("interrupt")
        self.events.emit({"event": "interrupt", "step": s.step, "reason": self.stopped,
                          "time": round(time.time() - self.started, 1)})
        self.events.close()
        self.log.line(f"{self.stopped} at update {s.step:,}: saved; continue with "
                      f"`seq2seq train --resume --run-dir {self.run_dir}`")
        return self.result(interrupted=True)

    def finish(self) -> TrainResult:
        """A last validation unless the last update had one, the final checkpoint, the `end` event."""
        s = self.state
        if self.last_valid_step != s.step:
            self.last_valid = self.validate(scheduled=False)
        self.save("final")
        self.events.emit({"event": "end", "step": s.step, "reason": self.stopped,
                          "time": round(time.time() - self.started, 1)})
        self.events.close()
        skipped = f" ({s.nonfinite} batches skipped for non-finite values)" if s.nonfinite else ""
        self.log.line(f"stopped: {self.stopped}; {s.step:,} updates{skipped} in {time.time() - self.started:.0f} s; "
                      f"best {self.metric.name} {s.best}; weights in {self.run_dir}")
        return self.result()

    def result(self, interrupted: bool = False) -> TrainResult:
        s = self.state
        return TrainResult(self.run_dir, s.step, s.epoch - 1 + s.batch_in_epoch / max(1, len(self.plan)),
                           time.time() - self.started, s.best, self.last_valid, self.stopped, s.nonfinite,
                           interrupted)
