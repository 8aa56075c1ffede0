"""Data-parallel training (torchrun): 2 CPU processes over gloo, one thread each, no dropout.

- N updates with 2 ranks equal N updates of one process on the union of their batches;
- a non-finite loss on one rank is skipped on both (no rank hangs waiting for the other);
- a 2-rank run stopped by a signal to one rank and resumed equals an uninterrupted one; resuming it with another
  number of processes warns that the batches differ;
- `torchrun --nproc-per-node 2 -m seq2seq train` trains one model into one run directory, rank 0 alone writing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from seq2seq.checkpoint import read_metrics
from seq2seq.config import validate
from seq2seq.data.batching import plan_batches
from seq2seq.errors import InputWarning
from seq2seq.training.train import Trainer, train
from helpers import REPO, toy_config
from seq2seq.rundir import RunDir

WORKER = Path(__file__).with_name("distributed_worker.py")
TIMEOUT = 240       # seconds a 2-process launch may take before the test calls it a hang


def copy_config(**train_overrides) -> dict:
    settings = {"max_steps": 8, "threads": 1, "valid_every": 100, **train_overrides}
    return toy_config("copy", train_size=600, **settings).model_dump(mode="json", exclude_unset=True)


def frames_config(**train_overrides) -> dict:
    return {"task": "speech_to_text",
            "data": {"synthetic": {"train_size": 400, "valid_size": 40, "symbols": 6, "max_len": 4, "seed": 3}},
            "tokenizer": {"type": "whitespace"},
            "model": {"embedding_size": 16, "encoder": {"hidden_size": 32, "dropout": 0.0},
                      "decoder": {"attention": "bahdanau", "hidden_size": 32, "dropout": 0.0}},
            "train": {"batch_sentences": 16, "lr": 3e-3, "valid_every": 100, "patience": None, "seed": 1,
                      "attention_plots": 0, "threads": 1, **train_overrides},
            "decode": {"max_len_a": 1.0, "max_len_b": 3, "batch_size": 40}}


def launch(tmp_path: Path, name: str, config: dict, run_dir: Path, **spec) -> list[dict]:
    """Two worker processes (ranks 0 and 1) rendezvousing through a file; each rank's result, weights included."""
    out = tmp_path / name
    out.mkdir()
    spec_file = out / "spec.json"
    spec_file.write_text(json.dumps({"config": config, "run_dir": str(run_dir), "out": str(out), **spec}))
    env = {**os.environ, "WORLD_SIZE": "2", "SEQ2SEQ_DIST_INIT": (out / "rendezvous").as_uri(),
           "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(spec_file)], cwd=tmp_path, stderr=subprocess.PIPE,
                              text=True, env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)})
             for rank in (0, 1)]
    try:
        errors = [p.communicate(timeout=TIMEOUT)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
    for rank, (p, err) in enumerate(zip(procs, errors)):
        assert p.returncode == 0, f"rank {rank} exited {p.returncode}:\n{err[-3000:]}"
    results = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r, result in enumerate(results):
        result["weights"] = load_file(out / f"rank{r}.safetensors")
    return results


def assert_same_weights(a: dict, b: dict, atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], rtol=0, atol=atol), \
            f"{name}: max difference {float((a[name] - b[name]).abs().max()):.3g}"


def test_two_ranks_equal_one_process_on_the_union_of_their_batches(tmp_path):
    config = copy_config()
    ranks = launch(tmp_path, "ddp", config, tmp_path / "ddp_run")
    assert [r["steps"] for r in ranks] == [8, 8]
    assert_same_weights(ranks[0]["weights"], ranks[1]["weights"])            # DDP kept the copies equal

    losses: list[float] = []
    one = Trainer(validate(config), tmp_path / "one_run", verbose=False, on_step=lambda _, loss: losses.append(loss))
    tc = one.tc
    plan = plan_batches(*one.data.train_lengths(), epoch=1, seed=tc.seed, batch_sentences=tc.batch_sentences)
    for k in range(8):
        assert one.train_step(plan[2 * k] + plan[2 * k + 1])                  # rank 0's batch k, then rank 1's
    single = {name: value.detach() for name, value in one.model.state_dict().items()}
    assert_same_weights(ranks[0]["weights"], single, atol=1e-5)
    # the loss each rank reports is that of the union: the same number on both, as one process computes it
    assert ranks[0]["losses"] == ranks[1]["losses"]
    assert ranks[0]["losses"] == pytest.approx(losses, rel=1e-5)
    on_disk = load_file(RunDir(tmp_path / "ddp_run").last)
    assert_same_weights(on_disk, ranks[0]["weights"])


def test_a_nonfinite_loss_on_one_rank_is_skipped_on_both(tmp_path):
    ranks = launch(tmp_path, "nan", frames_config(max_steps=6), tmp_path / "run", corrupt=2)
    for r in ranks:
        assert r["steps"] == 6 and r["skipped"] == 1, r          # the third batch of rank 1 was NaN: no update
    assert_same_weights(ranks[0]["weights"], ranks[1]["weights"])
    assert all(torch.isfinite(w).all() for w in ranks[0]["weights"].values())
    skipped = [m for m in read_metrics(tmp_path / "run") if m["event"] == "nonfinite"]
    assert len(skipped) == 1 and skipped[0]["step"] == 2 and skipped[0]["what"] == "loss nan"


def test_rank_0_validates_and_both_ranks_follow_its_schedule_and_early_stopping(tmp_path):
    config = copy_config(max_steps=40, valid_every=2, valid_metric="accuracy", lr_schedule="plateau",
                         plateau_patience=0, plateau_factor=0.5, patience=3)
    ranks = launch(tmp_path, "valid", config, tmp_path / "run")
    valids = [m for m in read_metrics(tmp_path / "run") if m["event"] == "valid"]
    assert min(m["lr"] for m in valids) < 3e-3                      # rank 0's plateau schedule lowered the rate ...
    assert_same_weights(ranks[0]["weights"], ranks[1]["weights"])   # ... on rank 1 too
    assert ranks[0]["stopped"] == ranks[1]["stopped"] and ranks[0]["steps"] == ranks[1]["steps"]
    if ranks[0]["steps"] < 40:                                      # early stopping, decided once for both
        assert ranks[1]["stopped"].startswith("no improvement in 3 validations")


def test_a_two_rank_run_stopped_by_a_signal_to_one_rank_resumes_to_the_uninterrupted_weights(tmp_path):
    config = copy_config(max_steps=12, save_every=None)
    whole = launch(tmp_path, "whole", config, tmp_path / "whole")
    cut = launch(tmp_path, "cut", config, tmp_path / "cut", term_at=5)
    assert all(r["interrupted"] for r in cut), cut                 # rank 0 stopped too, at the same update
    assert cut[0]["steps"] == cut[1]["steps"] < 12
    shutil.copytree(tmp_path / "cut", tmp_path / "cut_one")        # the same checkpoint, resumed by one process below
    resumed = launch(tmp_path, "resumed", config, tmp_path / "cut", resume=True)
    assert resumed[0]["steps"] == 12
    assert_same_weights(resumed[0]["weights"], whole[0]["weights"])
    assert_same_weights(load_file(RunDir(tmp_path / "cut").last), load_file(RunDir(tmp_path / "whole").last))
    # resuming it with another number of processes works, and says that the batches now differ
    with pytest.warns(InputWarning, match=r"trained by 2 process\(es\) and resumes with 1: the batches from here "
                                          r"on differ"):
        result = train(validate(config), tmp_path / "cut_one", resume=True, verbose=False)
    assert result.steps == 12


def test_torchrun_trains_one_model_into_one_run_directory(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed beside this Python (it comes with torch)")
    config_file = tmp_path / "copy.yaml"
    config_file.write_text(yaml.safe_dump(copy_config(max_steps=4)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "seq2seq", "train",
                           str(config_file), "--run-dir", str(tmp_path / "run")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("model: ") == 1, done.stderr          # rank 0 alone reports
    events = read_metrics(tmp_path / "run")
    assert [m["event"] for m in events].count("end") == 1 and events[-1]["step"] == 4
    assert (RunDir(tmp_path / "run").metrics).is_file() and (RunDir(tmp_path / "run").last).is_file()


def torchrun_train(tmp_path: Path, config: dict, run_dir: Path, *flags: str) -> subprocess.Popen:
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed beside this Python (it comes with torch)")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    return subprocess.Popen([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "seq2seq", "train",
                             str(config_file), "--run-dir", str(run_dir), "--quiet", *flags], cwd=tmp_path,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.PIPE, text=True)


def rank_pids(launcher: subprocess.Popen) -> list[int]:
    """The worker processes torchrun started (its children running `-m seq2seq train`)."""
    found = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout.split()
    agents = [int(p) for p in found]
    workers = subprocess.run(["pgrep", "-P", ",".join(map(str, agents)) or "0"], capture_output=True,
                             text=True).stdout.split()
    return sorted(int(p) for p in workers) or agents


def test_a_rank_killed_under_torchrun_ends_the_run_in_one_line_and_resume_is_exact(tmp_path):
    config = copy_config(max_steps=160, save_every=20, epochs=1000, log_every=5)
    whole = torchrun_train(tmp_path, config, tmp_path / "whole")
    assert whole.wait(timeout=TIMEOUT) == 0, whole.stderr.read()[-3000:]
    cut = torchrun_train(tmp_path, config, tmp_path / "cut")
    deadline = time.time() + TIMEOUT
    while max((m.get("step", 0) for m in read_metrics(tmp_path / "cut")), default=0) < 50:
        assert cut.poll() is None and time.time() < deadline, cut.stderr.read()[-3000:] if cut.poll() else "slow"
        time.sleep(0.05)
    workers = rank_pids(cut)
    assert len(workers) == 2, workers
    os.kill(workers[-1], signal.SIGKILL)
    started = time.time()
    err = cut.communicate(timeout=120)[1]
    assert cut.returncode != 0 and time.time() - started < 60           # the other rank did not hang
    assert "seq2seq: error: another training process of this run stopped" in err, err[-3000:]
    assert "[rank0]: Traceback" not in err, err[-3000:]
    resumed = torchrun_train(tmp_path, config, tmp_path / "cut", "--resume")
    assert resumed.wait(timeout=TIMEOUT) == 0, resumed.stderr.read()[-3000:]
    assert_same_weights(load_file(RunDir(tmp_path / "cut").last), load_file(RunDir(tmp_path / "whole").last))


END_RANK_SCRIPT = """
import atexit
from seq2seq.training.distributed import end_rank
atexit.register(lambda: print("exit handler ran"))
print("output still buffered", end=" ")
end_rank(3)
print("returned")
"""


@pytest.mark.parametrize("world_size, status, printed", [
    ("2", 3, "output still buffered exit handler ran\n"),
    ("1", 0, "output still buffered returned\nexit handler ran\n")])
def test_a_rank_ends_with_its_status_its_exit_handlers_run_and_its_output_flushed(world_size, status, printed):
    """end_rank ends a rank of several at once (no interpreter finalization to race with gloo's threads);
    one process returns from it and exits as usual."""
    done = subprocess.run([sys.executable, "-c", END_RANK_SCRIPT], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WORLD_SIZE": world_size, "PYTHONPATH": str(REPO)})
    assert (done.returncode, done.stdout) == (status, printed), done.stderr
