"""Reading rendered text lines beside Tesseract 5 (the peer), on the same image files, in one run.

    .venv/bin/python benchmarks/ocr_peer.py --run runs/ocr_lines [--count 200] [--speed-count 64] [--langs eng+fra]

Renders lines the run never trained on (the run's generated *test* split of data.lines: texts disjoint from its
training and validation lines) as PNG files, in four sets: the training fonts and the unseen font(s) of the run,
each clean (degradation 0) and degraded (the run's data.lines.degrade); and a fifth, degraded, in fonts named in
none of the run's lists (`--other-fonts`). Each set alternates its fonts line by line. Both readers read the same
files: ours greedily (`seq2seq.load(run).read`, batch 16, with the run's decode.ctc_weight joint search, and with
attention alone), Tesseract with `--psm 7` (one text line) and
`-l eng+fra`, all files of a set in one process (a list file). Scores: CER, WER (jiwer), exact lines.

Speed: lines/s of ours greedy and beam 5 at batch 1, 16 and 64 (model loaded, files decoded in the timing), and of
Tesseract on the same files (one process for all of them, start-up included). Medians of `--repeats` runs.
Writes benchmarks/results/ocr_peer.json.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median, save, table  # noqa: E402

OTHER_FONTS = ["Caladea-Italic", "Carlito-Italic", "LiberationSerif-Bold", "Roboto-Thin", "URWGothic-Demi",
               "FreeSerifItalic"]


def render_set(config, texts: list[str], fonts: list[str], degrade: float, folder: Path, seed: int) -> list[Path]:
    """PNG files of `texts`, line i in fonts[i % len(fonts)] at a size drawn from the run's range."""
    import numpy as np

    from seq2seq.data.images.rendered import font_path, render_line

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(texts):
        rng = np.random.default_rng((seed, i))
        size = int(rng.integers(config.sizes[0], config.sizes[1] + 1))
        image = render_line(text, font_path(fonts[i % len(fonts)]), size, degrade, rng)
        path = folder / f"{i:05d}.png"
        image.save(path)
        paths.append(path)
    return paths


def tesseract(paths: list[Path], langs: str) -> tuple[list[str], float]:
    """Tesseract's line for every file (one process, a list file) and the seconds it took."""
    listing = paths[0].parent / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    started = time.perf_counter()
    out = subprocess.run(["tesseract", str(listing), "stdout", "--psm", "7", "-l", langs], capture_output=True,
                         text=True, check=True).stdout
    seconds = time.perf_counter() - started
    pages = out.split("\f")[: len(paths)]
    return [" ".join(page.split()) for page in pages] + [""] * (len(paths) - len(pages)), seconds


def scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    from seq2seq.metrics import char_error_rate, exact_match, word_error_rate

    return {"cer": char_error_rate(hyps, refs), "wer": word_error_rate(hyps, refs), "exact": exact_match(hyps, refs)}


def ours_speed(reader, paths: list[Path], beam: int, batch: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        reader.read([str(p) for p in paths], beam_size=beam, batch_size=batch)
        times.append(time.perf_counter() - started)
    return round(len(paths) / median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--count", type=int, default=200, help="lines per set")
    parser.add_argument("--speed-count", type=int, default=64, help="lines timed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--langs", default="eng+fra")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--other-fonts", nargs="*", default=OTHER_FONTS)
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        raise SystemExit("tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-eng "
                         "tesseract-ocr-fra)")
    import torch

    import seq2seq
    from seq2seq.data.images.splits import read_image_splits

    torch.set_num_threads(args.threads)
    reader = seq2seq.load(args.run)
    lines = reader.config.data.lines
    if lines is None:
        raise SystemExit(f"{args.run} is not trained on rendered lines (data.lines)")
    texts = read_image_splits(reader.config.data.model_copy(update={"lines": lines.model_copy(
        update={"test_size": max(lines.test_size, args.count), "unseen_fonts": []})}), ("test",))["test"].texts
    texts = texts[: args.count]
    sets = {"training fonts, clean": (lines.fonts, 0.0), "training fonts, degraded": (lines.fonts, lines.degrade),
            "unseen font, clean": (lines.unseen_fonts, 0.0), "unseen font, degraded": (lines.unseen_fonts,
                                                                                      lines.degrade),
            "fonts in no list, degraded": (args.other_fonts, lines.degrade)}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, (fonts, degrade)) in enumerate(sets.items()):
            if not fonts:
                continue
            paths = render_set(lines, texts, list(fonts), degrade, Path(tmp) / f"set{n}", seed=lines.seed + 100 + n)
            ours = [r.text for r in reader.read([str(p) for p in paths], beam_size=1, batch_size=16)]
            attention_only = [r.text for r in reader.read([str(p) for p in paths], beam_size=1, batch_size=16,
                                                          ctc_weight=0.0)]
            theirs, seconds = tesseract(paths, args.langs)
            results[name] = {"fonts": list(fonts), "degrade": degrade, "lines": len(paths),
                             "seq2seq": scores(ours, texts), "tesseract": scores(theirs, texts),
                             "seq2seq_attention_only": scores(attention_only, texts),
                             "examples": [{"reference": r, "seq2seq": o, "tesseract": t}
                                          for r, o, t in list(zip(texts, ours, theirs))[:5]]}
            print(f"{name}: seq2seq {results[name]['seq2seq']} | tesseract {results[name]['tesseract']}",
                  flush=True)
        speed_paths = render_set(lines, texts[: args.speed_count], list(lines.fonts), lines.degrade,
                                 Path(tmp) / "speed", seed=lines.seed + 99)
        speed = {f"seq2seq beam {beam}, batch {batch}": ours_speed(reader, speed_paths, beam, batch, args.repeats)
                 for beam in (1, 5) for batch in (1, 16, 64)}
        speed["tesseract --psm 7 (one process)"] = round(len(speed_paths) / median(
            [tesseract(speed_paths, args.langs)[1] for _ in range(args.repeats)]), 1)
    quality = table(["set", "seq2seq CER", "attention only CER", "Tesseract CER", "seq2seq WER", "Tesseract WER",
                     "seq2seq exact", "Tesseract exact"],
                    [[name, r["seq2seq"]["cer"], r["seq2seq_attention_only"]["cer"], r["tesseract"]["cer"],
                      r["seq2seq"]["wer"], r["tesseract"]["wer"], r["seq2seq"]["exact"], r["tesseract"]["exact"]]
                     for name, r in results.items()])
    speeds = table(["reader", "lines/s"], [[k, v] for k, v in speed.items()])
    save("ocr_peer", {"run": args.run, "threads": args.threads, "langs": args.langs,
                      "ctc_weight": reader.config.decode.ctc_weight, "sets": results,
                      "lines_per_s": speed}, quality + "\n\n" + speeds)


if __name__ == "__main__":
    main()
