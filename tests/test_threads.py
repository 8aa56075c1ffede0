"""Importing seq2seq shortens OpenMP's spin-wait (seq2seq/threads.py) unless the environment already chose one, and
does it before torch is loaded (libgomp reads the setting once, when it is loaded); `seq2seq train` keeps libgomp's
own and shares cores instead (CoreShare)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
import yaml

from seq2seq.threads import (CHOICES, SPIN_COUNT, SPIN_MARK, CoreShare, read_cpu_times, threads_left, usable_cores,
                             without_package_spin)

from helpers import toy_config

SHOW = "import os, sys, seq2seq; print(os.environ.get('GOMP_SPINCOUNT'), 'torch' in sys.modules)"


def environment_without_a_spin() -> dict[str, str]:
    """This environment without any OpenMP wait setting (importing seq2seq here set one) or the package's mark."""
    return {k: v for k, v in os.environ.items() if k not in (*CHOICES, SPIN_MARK)}


def spin_after_import(**env: str) -> str:
    clean = environment_without_a_spin()
    done = subprocess.run([sys.executable, "-c", SHOW], env={**clean, **env}, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_importing_seq2seq_sets_a_short_spin_before_torch_is_loaded():
    assert spin_after_import() == "3000 False"


@pytest.mark.parametrize("env, expected", [({"GOMP_SPINCOUNT": "123"}, "123 False"),
                                           ({"OMP_WAIT_POLICY": "ACTIVE"}, "None False"),
                                           ({"OMP_WAIT_POLICY": "PASSIVE"}, "None False")])
def test_a_wait_setting_in_the_environment_is_left_alone(env, expected):
    assert spin_after_import(**env) == expected


# ---- `seq2seq train` keeps libgomp's own spin-wait (it shares cores instead) -------------------------------------

def test_the_long_spin_for_training_undoes_only_the_package_s_own_short_spin():
    code = ("import os, seq2seq; from seq2seq.threads import long_openmp_spin_for_training as f; "
            "{before}; f(); print(os.environ.get('GOMP_SPINCOUNT'))")
    clean = environment_without_a_spin()

    def spin(before: str = "pass", **env: str) -> str:
        done = subprocess.run([sys.executable, "-c", code.format(before=before)], env={**clean, **env},
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert spin() == "None"                          # libgomp's default when torch loads
    assert spin(GOMP_SPINCOUNT="3000") == "3000"      # the user's choice, even when it equals the package's
    assert spin(before="import torch") == "3000"      # too late: libgomp has read it


def test_seq2seq_train_chooses_the_spin_before_torch_is_loaded(tmp_path):
    """Through the CLI's own path: the spin is undone only while torch is not loaded yet."""
    config = tmp_path / "toy.yaml"
    config.write_text(yaml.safe_dump(toy_config(max_steps=1, valid_every=100, threads=1).model_dump(
        mode="json", exclude_unset=True)))
    code = ("import os, sys; from seq2seq.cli import main; "
            f"main(['train', {str(config)!r}, '--run-dir', {str(tmp_path / 'run')!r}, '--quiet']); "
            "print(os.environ.get('GOMP_SPINCOUNT'))")
    clean = environment_without_a_spin()
    shared = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True)
    fixed = subprocess.run([sys.executable, "-c", code.replace("'--quiet'", "'--quiet', '--set', "
                                                                "'train.share_cores=false'")],
                           env=clean, capture_output=True, text=True, check=True)
    assert (shared.stdout.strip(), fixed.stdout.strip()) == ("None", SPIN_COUNT)


# ---- CoreShare: the thread count follows the cores other processes leave -----------------------------------------

@pytest.mark.parametrize("others, cores, most, expected", [
    (0.0, 2, 2, 2), (0.25, 2, 2, 2), (0.35, 2, 2, 1), (1.0, 2, 2, 1), (6.0, 2, 2, 1),
    (1.0, 8, 4, 4), (1.2, 8, 8, 7), (2.5, 8, 8, 5), (0.0, 8, 1, 1)])
def test_threads_left_counts_a_core_as_taken_above_a_threshold(others, cores, most, expected):
    assert threads_left(others, cores, most) == expected


@pytest.mark.alone
@pytest.mark.skipif(read_cpu_times(usable_cores()) is None, reason="needs /proc/stat (Linux)")
def test_core_share_yields_a_core_to_a_busy_process_and_takes_it_back():
    cores = usable_cores()
    before = torch.get_num_threads()
    share = CoreShare(most=len(cores), every=1.0)
    try:
        for _ in range(5):                           # what the machine leaves without the spinner (a test run's
            time.sleep(1.2)                          # own files being written back can hold a core for a while)
            share.poll()
            if share.threads == len(cores):
                break
        free = share.threads
        if free < 2:
            pytest.skip(f"other processes leave {free} of {len(cores)} cores: nothing to yield")
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(1.2)
            yielded = share.poll()
        finally:
            spinner.kill()
            spinner.wait()
        assert yielded is not None and yielded <= free - 1 and torch.get_num_threads() == yielded
        time.sleep(1.2)
        assert share.poll() == free and share.threads == free
        assert share.poll() is None                  # not looked at again before `every` seconds
    finally:
        torch.set_num_threads(before)


def test_core_share_follows_what_proc_stat_says_the_other_processes_used(tmp_path, monkeypatch):
    """The same with a /proc/stat written here: deterministic however busy the machine is (the spinner test above
    skips when other processes already hold the cores it would free)."""
    import seq2seq.threads as threads

    cores, tick = usable_cores(), os.sysconf("SC_CLK_TCK")
    stat = tmp_path / "stat"
    monkeypatch.setattr(threads, "STAT", str(stat))

    def write(busy_s: float) -> None:      # core 0's busy time, the others idle
        lines = [f"cpu{c} {round(busy_s * tick) if c == cores[0] else 0} 0 0 1000 0 0 0 0 0 0" for c in cores]
        stat.write_text("cpu  0 0 0 0 0 0 0 0 0 0\n" + "\n".join(lines) + "\n")

    if len(cores) < 2:
        pytest.skip("needs at least 2 usable cores")
    write(0.0)
    before = torch.get_num_threads()
    share = CoreShare(most=len(cores), every=0.5)
    try:
        time.sleep(0.5)
        write(0.5)                          # core 0 busy for the whole 0.5 s: one core taken
        assert share.poll() == len(cores) - 1 and torch.get_num_threads() == len(cores) - 1
        time.sleep(0.5)                     # nothing more: all cores back
        assert share.poll() == len(cores) and torch.get_num_threads() == len(cores)
    finally:
        torch.set_num_threads(before)


def test_core_share_of_one_thread_or_of_more_threads_than_cores_never_looks():
    one, more = CoreShare(most=1, every=0.0), CoreShare(most=len(usable_cores()) + 2, every=0.0)
    assert (one.poll(), one.threads) == (None, 1)
    assert (more.poll(), more.threads) == (None, len(usable_cores()) + 2)


def test_children_lose_only_the_package_s_own_spin():
    mine = {"GOMP_SPINCOUNT": SPIN_COUNT, SPIN_MARK: SPIN_COUNT, "PATH": "/bin"}
    users = {"GOMP_SPINCOUNT": "300000", SPIN_MARK: SPIN_COUNT}
    passive = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "5"}
    assert without_package_spin(mine) == {"PATH": "/bin"}
    assert without_package_spin(users) == {"GOMP_SPINCOUNT": "300000"}
    assert without_package_spin(passive) == passive


@pytest.mark.parametrize("share", [True, False])
def test_a_training_that_shares_cores_logs_its_thread_count(tmp_path, share):
    from seq2seq.checkpoint import read_metrics
    from seq2seq.training.train import train

    before = torch.get_num_threads()
    try:
        train(toy_config(max_steps=3, log_every=1, valid_every=100, threads=2, share_cores=share), tmp_path,
              verbose=False)
    finally:
        torch.set_num_threads(before)
    logged = [e.get("threads") for e in read_metrics(tmp_path) if e["event"] == "train"]
    assert logged and all(t in (1, 2) if share else t is None for t in logged)
