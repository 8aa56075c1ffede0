"""A self-contained HTML report of a run: training curves, sample translations, attention heatmaps.

    seq2seq report RUN_DIR -o report.html

One file with everything inlined (images as data: URIs, no scripts, no external links), so it opens in any browser
without a server and can be mailed or archived. Curves come from `metrics.jsonl`; the samples are the first
validation sentences translated greedily by the best checkpoint; the heatmaps are those training wrote at each
validation (`train.attention_plots`), the first and the last step of each sentence side by side, so one sees
attention sharpen.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any, Optional

from . import checkpoint as ckpt
from .config import dump_config
from .errors import UserError
from .metrics import METRICS, Metric, get_metric

QUALITY = ("bleu", "chrf", "wer", "cer")   # plotted when the validations report them


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
    quality = [name for name in QUALITY if valid and all(name in m for m in valid)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    if train:
        axes[0].plot([m["step"] for m in train], [m["loss"] for m in train],
                     label="training loss (label smoothing, dropout)", alpha=0.8)
    if valid:
        steps = [m["step"] for m in valid]
        axes[0].plot(steps, [m["loss"] for m in valid], marker="o", label="validation loss")
        if all("ppl" in m for m in valid):
            axes[1].plot(steps, [m["ppl"] for m in valid], marker="o", color="tab:orange")
        for name, marker in zip(quality, "osd^"):
            axes[2].plot(steps, [m[name] for m in valid], marker=marker, label=f"{METRICS[name].label} (greedy)")
        if quality:
            axes[2].legend(fontsize=8)
    axes[0].legend(fontsize=8)
    titles = ("loss per token", "validation perplexity", "validation " + " / ".join(METRICS[n].label for n in quality))
    for ax, title in zip(axes, titles):
        ax.set(title=title, xlabel="update")
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _samples(run_dir: Path, count: int, device: str) -> list[tuple[str, str, str]]:
    """(source, reference, greedy translation) for the first `count` validation pairs."""
    from .api import Translator
    from .data.pipeline import load_corpora

    if count == 0:
        return []
    translator = Translator.load(run_dir, device=device)
    try:
        valid = load_corpora(translator.config, ("valid",))["valid"]
    except UserError:
        return []                      # the data moved: the report still has curves and heatmaps
    sources, refs = valid.src[:count], valid.tgt[:count]
    hyps = translator.translate(sources, beam_size=1, attention=False)
    return [(s, r, h.text) for s, r, h in zip(sources, refs, hyps)]


def _heatmaps(run_dir: Path) -> list[tuple[str, list[Path]]]:
    """Per validation sentence folder: its first and last heatmap (one if there is only one)."""
    folder = run_dir / ckpt.ATTENTION
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
    dec = config.model.decoder
    family = dec.family
    parts = [f"<h1>seq2seq run report: {esc(str(run_dir))}</h1>",
             f"<p>decoder <b>{esc(family)}</b>, {esc(config.model.encoder.rnn)} encoder; "
             f"{len(valid)} validations, last update {metrics[-1]['step'] if metrics else 0:,}"
             + (f"; best validation {esc(metric.label)} <b>{best[metric.name]}</b> at update {best['step']:,}"
                if best else "")
             + "</p>"]
    curves = _curves_png(metrics)
    parts.append("<h2>Training curves</h2>")
    parts.append(f'<img alt="training curves" src="{_png_data_uri(curves)}">' if curves else
                 "<p>No metrics logged yet.</p>")
    rows = _samples(run_dir, samples, device)
    parts.append("<h2>Sample translations (validation, greedy, best checkpoint)</h2>")
    if rows:
        parts.append("<table><tr><th>#</th><th>source</th><th>reference</th><th>translation</th></tr>"
                     + "".join(f"<tr><td>{i}</td><td>{esc(s)}</td><td>{esc(r)}</td><td>{esc(h)}</td></tr>"
                               for i, (s, r, h) in enumerate(rows, start=1)) + "</table>")
    else:
        parts.append("<p>The validation data is not readable from here.</p>")
    parts.append("<h2>Attention during training</h2>")
    maps = _heatmaps(run_dir)
    if maps:
        parts.append("<p>Each validation sentence at the first and the last validation.</p>")
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
