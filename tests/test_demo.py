"""`seq2seq demo` — the main job — reaches >= 98% exact match and says where the run went."""

import subprocess
import sys


def test_demo_reaches_98_percent(tmp_path):
    run_dir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "seq2seq", "demo", "--run-dir", str(run_dir)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("test exact match:"))
    accuracy = float(line.split(":")[1].split("%")[0])
    assert accuracy >= 98.0, line
    assert f"run saved in {run_dir}" in result.stdout
    assert "Thursday, 25th of June 2009" in result.stdout and "2009-06-25" in result.stdout
    assert (run_dir / "best.safetensors").is_file() and (run_dir / "metrics.jsonl").is_file()
