"""Importing seq2seq shortens OpenMP's spin-wait (seq2seq/threads.py) unless the environment already chose one, and
does it before torch is loaded (libgomp reads the setting once, when it is loaded)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seq2seq.threads import CHOICES

SHOW = "import os, sys, seq2seq; print(os.environ.get('GOMP_SPINCOUNT'), 'torch' in sys.modules)"


def spin_after_import(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in CHOICES}
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
