"""The HTML report: one self-contained file with curves, samples and the heatmaps training wrote; it renders in
headless Chromium where Chromium is installed (and must, in CI: SEQ2SEQ_REQUIRE_BROWSER=1, see .ci/run)."""

import re
import shutil
import subprocess
import sys

import pytest

from seq2seq.checkpoint import read_metrics
from seq2seq.metrics import get_metric
from seq2seq.tools.report import best_validation
from seq2seq.training.train import train
from helpers import FAMILIES, toy_config


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    train(toy_config("reverse", FAMILIES["luong-general"], max_steps=60, valid_every=30, attention_plots=2), run_dir,
          verbose=False)
    out = run_dir / "report.html"
    result = subprocess.run([sys.executable, "-m", "seq2seq", "report", str(run_dir), "-o", str(out),
                             "--samples", "5"], capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    return out


def test_report_is_self_contained_with_curves_samples_and_heatmaps(report):
    text = report.read_text(encoding="utf-8")
    for heading in ("Training curves", "Sample translations", "Attention during training", "Configuration"):
        assert heading in text
    images = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(images) == 1 + 2 * 2                      # curves + first/last heatmap of 2 sentences
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(https?:)?//', text) and "<script" not in text
    assert len(re.findall(r"<tr><td>\d+</td>", text)) == 5


def test_best_validation_follows_the_valid_metric_and_its_direction():
    events = [{"step": 10, "loss": 2.0, "bleu": 30.0, "accuracy": 5.0},
              {"step": 20, "loss": 1.0, "bleu": 20.0, "accuracy": 9.0},
              {"step": 30, "loss": 1.5, "bleu": 25.0, "accuracy": 9.0}]
    assert best_validation(events, get_metric("bleu"))["step"] == 10
    assert best_validation(events, get_metric("loss"))["step"] == 20
    assert best_validation(events, get_metric("accuracy"))["step"] == 20      # the earliest of equals
    assert best_validation([], get_metric("loss")) is None


def test_report_names_the_best_validation_by_the_run_metric(report):
    # toy_config validates on exact match (train.valid_metric: accuracy), not BLEU
    valid = [m for m in read_metrics(report.parent) if m["event"] == "valid"]
    best = best_validation(valid, get_metric("accuracy"))
    assert f"best validation exact match <b>{best['accuracy']}</b> at update {best['step']:,}" in \
        report.read_text(encoding="utf-8")


def chromium_command(missing_browser) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        missing_browser("Chromium is not installed (Debian: apt install chromium)")
    return browser


def test_a_missing_chromium_skips_or_fails_where_ci_requires_it(missing_browser, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))                                # no chromium on it
    monkeypatch.delenv("SEQ2SEQ_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        chromium_command(missing_browser)
    monkeypatch.setenv("SEQ2SEQ_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed .*SEQ2SEQ_REQUIRE_BROWSER=1 requires"):
        chromium_command(missing_browser)


def test_report_renders_in_headless_chromium(report, tmp_path, missing_browser):
    browser = chromium_command(missing_browser)
    shot = tmp_path / "report.png"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.as_uri()],
                         capture_output=True, timeout=120, text=True)
    assert dom.returncode == 0 and "Attention during training" in dom.stdout
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1300,2000", report.as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000
