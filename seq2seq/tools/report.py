"""A self-contained HTML report of a run: training curves, sample outputs, attention over training.

    seq2seq report RUN_DIR -o report.html

One file with everything inlined (images as data: URIs, no scripts, no external links), so it opens in any browser
without a server and can be mailed or archived. Curves come from `metrics.jsonl`; the samples are the first
validation sentences translated (or recordings transcribed) greedily by the best checkpoint — for a synthesiser,
the listening table: real recordings and their syntheses as audio players beside their spectrograms; the pictures
are those
training wrote at each validation (`train.attention_plots`: heatmaps for text, the spectrogram over its alignment
for speech in or out), the first and the last step of each example side by side, so one sees attention sharpen.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Optional

from .. import checkpoint as ckpt
from ..config import dump_config
from ..errors import UserError
from ..inference.predictor import Cell, Media, Samples
from ..metrics import METRICS, Metric, get_metric
from ..plot import figure_png
from ..rundir import RunDir
from ..tasks import task_class


def _png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _curves_png(metrics: list[dict[str, Any]]) -> Optional[bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [m for m in metrics if m.get("event") == "train"]
    valid = [m for m in metrics if m.get("event") == "valid"]
    if not train and not valid:
        return None
    quality = _reported(valid, "quality")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    if train:
        axes[0].plot([m["step"] for m in train], [m["loss"] for m in train],
                     label="training loss (label smoothing, dropout)", alpha=0.8)
    if valid:
        steps = [m["step"] for m in valid]
        axes[0].plot(steps, [m["loss"] for m in valid], marker="o", label="validation loss")
        middle = _middle_panel(axes[1], steps, valid)
        for name, marker in zip(quality, "osd^"):
            axes[2].plot(steps, [m[name] for m in valid], marker=marker, label=f"{METRICS[name].label} (greedy)")
        if quality:
            axes[2].legend(fontsize=8)
    axes[0].legend(fontsize=8)
    titles = ("loss per token (per decoder step)", middle if valid else "",
              "validation " + " / ".join(METRICS[n].label for n in quality))
    for ax, title in zip(axes, titles):
        ax.set(title=title, xlabel="update")
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    fig.tight_layout()
    return figure_png(fig)


def _reported(valid: list[dict[str, Any]], panel: str) -> list[str]:
    """The metrics plotted in `panel` (seq2seq.metrics) that every validation event reports."""
    return [name for name, metric in METRICS.items()
            if metric.panel == panel and valid and all(name in m for m in valid)]


def _middle_panel(ax, steps: list[int], valid: list[dict[str, Any]]) -> str:
    """Perplexity (text out) or frame L1 (frames out): the "error" metrics the validations report; the title."""
    names = _reported(valid, "error")
    for name, color in zip(names, ("tab:orange", "tab:green", "tab:red")):
        ax.plot(steps, [m[name] for m in valid], marker="o", color=color, label=METRICS[name].label)
    if len(names) > 1:
        ax.legend(fontsize=8)
    return "validation " + " / ".join(METRICS[n].label for n in names) if names else ""


def _samples(run_dir: Path, count: int, device: str) -> Optional[Samples]:
    """The predictor's sample table (`Predictor.samples`) for the first `count` validation examples; None for a task
    without one (audio out: its pictures are its samples); an empty table when the data is not readable from here
    (the report still has curves and pictures)."""
    from ..inference import load

    if count == 0:
        return None
    try:
        predictor = load(run_dir, device=device)
    except UserError:
        return None
    try:
        return predictor.samples(count)
    except UserError:
        return Samples("Samples", ("input", "reference", "output"), [])


def _samples_section(samples: Optional[Samples]) -> list[str]:
    if samples is None:
        return []
    source, reference, output = samples.columns
    parts = [f"<h2>{samples.title} (validation, best checkpoint)</h2>"]
    if not samples.rows:
        return parts + ["<p>The validation data is not readable from here.</p>"]
    return parts + [f"<table><tr><th>#</th><th>{source}</th><th>{reference}</th><th>{output}</th></tr>"
                    + "".join(f"<tr><td>{i}</td><td>{_cell(s)}</td><td>{_cell(r)}</td><td>{_cell(h)}</td></tr>"
                              for i, (s, r, h) in enumerate(samples.rows, start=1)) + "</table>"]


def _cell(cell: Cell) -> str:
    """A sample table's cell as HTML: text escaped; audio as a player and pictures inline (data URIs)."""
    if isinstance(cell, str):
        return html.escape(cell)
    if isinstance(cell, Media):
        cell = (cell,)
    out = []
    for media in cell:
        label = html.escape(media.caption)
        out.append(f'<div><audio controls preload="none" title="{label}" src="data:audio/wav;base64,'
                   f'{base64.b64encode(media.data).decode("ascii")}"></audio></div>' if media.kind == "audio" else
                   f'<div><img alt="{label}" src="{_png_data_uri(media.data)}"></div>')
    return "".join(out)


def _heatmaps(run_dir: Path) -> list[tuple[str, list[Path]]]:
    """Per validation sentence folder: its first and last heatmap (one if there is only one)."""
    folder = RunDir(run_dir).attention
    out = []
    for sentence in sorted(p for p in folder.glob("val*") if p.is_dir()):
        images = sorted(sentence.glob("step*.png"))
        if images:
            out.append((sentence.name, images[:1] + images[-1:] if len(images) > 1 else images))
    return out


def best_validation(valid: list[dict[str, Any]], metric: Metric) -> Optional[dict[str, Any]]:
    """The validation event best by `metric` (the run's train.valid_metric), the earliest of equals; None if none."""
    best = None
    for event in valid:
        if metric.name in event and (best is None or metric.better(event[metric.name], best[metric.name])):
            best = event
    return best


def build_report(run_dir: str | Path, output: str | Path, samples: int = 10, device: str = "cpu") -> Path:
    run_dir, output = Path(run_dir), Path(output)
    ckpt.check_format(run_dir)
    config = ckpt.read_config(run_dir)
    metrics = ckpt.read_metrics(run_dir)
    valid = [m for m in metrics if m.get("event") == "valid"]
    metric = get_metric(config.train.valid_metric)
    best = best_validation(valid, metric)
    esc = html.escape
    parts = [f"<h1>seq2seq run report: {esc(str(run_dir))}</h1>",
             f"<p><b>{esc(config.model.summary)}</b>; "
             f"{len(valid)} validations, last update {metrics[-1]['step'] if metrics else 0:,}"
             + (f"; best validation {esc(metric.label)} <b>{best[metric.name]}</b> at update {best['step']:,}"
                if best else "")
             + "</p>"]
    curves = _curves_png(metrics)
    parts.append("<h2>Training curves</h2>")
    parts.append(f'<img alt="training curves" src="{_png_data_uri(curves)}">' if curves else
                 "<p>No metrics logged yet.</p>")
    parts.extend(_samples_section(_samples(run_dir, samples, device)))
    parts.append("<h2>Attention during training</h2>")
    maps = _heatmaps(run_dir)
    if maps:
        parts.append("<p>Each validation example at the first and the last validation"
                     + task_class(config.task).pictures
                     + ".</p>")
        for name, images in maps:
            figures = "".join(f'<figure><img alt="{esc(name)} {esc(p.stem)}" '
                              f'src="{_png_data_uri(p.read_bytes())}"><figcaption>{esc(p.stem)}</figcaption>'
                              f"</figure>" for p in images)
            parts.append(f'<h3>{esc(name)}</h3><div class="maps">{figures}</div>')
    else:
        parts.append("<p>No heatmaps in this run (a vanilla decoder, or train.attention_plots: 0).</p>")
    parts.append(f"<h2>Configuration</h2><details><summary>config.yaml</summary><pre>{esc(dump_config(config))}"
                 f"</pre></details>")
    style = ("body{font-family:sans-serif;max-width:1300px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:4px 8px;"
             "vertical-align:top;text-align:left}img{max-width:100%}.maps{display:flex;flex-wrap:wrap;gap:1em}"
             "figure{margin:0}figcaption{font-size:80%;color:#555}")
    document = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>seq2seq report: '
                f"{esc(run_dir.name)}</title><style>{style}</style></head><body>\n" + "\n".join(parts)
                + "\n</body></html>\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document, encoding="utf-8")
    return output
