"""Speed of a text_to_speech run (e.g. configs/fsdd_tts.yaml): synthesis as real-time factors, the model and the
Griffin-Lim vocoder apart, and training throughput of the run's config.

    .venv/bin/python benchmarks/tts_throughput.py RUN_DIR [--threads 2] [--quick] [--batch 1 16] [--iters 32 60]
        [--texts 64] [--repeat 3] [--steps 60] [--window 10] [--train-size N]

RUN_DIR: a trained text_to_speech run on the spoken digits (`seq2seq train configs/fsdd_tts.yaml --run-dir
runs/fsdd_tts`). The texts are a fixed set of `--texts` validation-style strings drawn with `spoken_digits.generate`
from the run's data.digits settings (its speakers, valid_indices, min/max digits, pauses), seed 2024, the same for
every row. Every measurement runs in its own process (peak RSS is its own):
- model alone, one row per batch size: `TextToSpeechTask.synthesize` (length-sorted batches of decode.batch_size,
  set to the row's batch size; free-running generation until the stop flag or model.head.max_steps) on the token
  ids, which are encoded before the timed region. One warm-up pass on the first `--batch` texts, then the median of
  `--repeat` timed passes over all of them, each after torch.manual_seed(0) (the prenet's dropout stays on at
  inference, so the output lengths, and the time, depend on it). Audio seconds = what the vocoder would write for
  the frames produced: Σ max(1, (frames − 1)·hop) / sample rate. Speed = audio seconds per wall-clock second
  (×real time), RTF = its inverse. A batch runs until its last row stops; rows that stopped early still ride along,
  so batching pays most when the lengths are alike. The share of outputs that stopped by themselves is shown: an
  untrained model never stops and writes max_steps·reduction frames each.
- Griffin-Lim alone, one row per iteration count: `vocoder.mel_to_audio` (the Synthesizer's settings: momentum
  0.99, power 1.5) of the real strings' log-mel (the run's feature settings), one utterance at a time (the vocoder
  has no batch), so the lengths do not depend on how well the model stops. One warm-up call, then the median of
  `--repeat` passes; also the share of the time spent in mel → linear magnitude (the NNLS fit) rather than in the
  Griffin-Lim iterations. Speed = audio seconds of output per second.
- model + vocoder: 1 / (1 / model speed + 1 / vocoder speed), derived from the rows above (not measured; the two
  run one after the other in `Synthesizer.synthesize`).
- training: the run's config trained from fresh weights by the real loop (`training.trainer.Trainer`) in a
  temporary folder, as benchmarks/speech_throughput.py does for speech_to_text: `--steps` updates with the run's
  vocabulary and feature normaliser (tokenizer.from_run), no validation or checkpoint inside the loop; the on_step
  callback timestamps each update (batch assembly + forward + backward, guided attention loss included + clipping +
  optimizer step). Update 1 is not in any window, the first window of `--window` updates is warm-up, the figures are
  medians of the other windows: real (unpadded) target frames per second, audio seconds per second (frames × hop),
  utterances and input tokens per second.

Figures from an untrained or barely trained run are a smoke test only: an untrained model never stops, so every
synthesis runs to max_steps. Writes benchmarks/results/tts_throughput.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "tts_throughput"
SEED = 2024                 # the fixed draw of benchmark texts
QUICK = {"texts": 16, "batch": [1, 16], "iters": [32, 60], "repeat": 1, "steps": 9, "window": 4, "train_size": 64}
DEFAULTS = {"texts": 64, "batch": [1, 16], "iters": [32, 60], "repeat": 3, "steps": 60, "window": 10,
            "train_size": None}


def check_run(run_dir: str):
    """The run's config; exits with one line when it is not a text_to_speech run on the spoken digits."""
    from seq2seq import checkpoint as ckpt
    from seq2seq.errors import UserError

    try:
        config = ckpt.read_config(Path(run_dir))
    except UserError as exc:
        sys.exit(str(exc))
    if config.task != "text_to_speech":
        sys.exit(f"{run_dir} is a {config.task} run: this benchmark needs a text_to_speech run")
    if config.data.digits is None:
        sys.exit(f"{run_dir} does not train on the spoken digits (data.digits): this benchmark needs them")
    return config


def recordings(config) -> Path:
    """The FSDD recordings folder: the run's data.digits.recordings, else the shared copy; exits when absent."""
    from speech_throughput import recordings as speech_recordings

    return speech_recordings(config)


def strings(config, count: int):
    from seq2seq.data.audio.spoken_digits import generate

    d = config.data.digits
    return generate(recordings(config), count, range(d.valid_indices[0], d.valid_indices[1] + 1), SEED, d.min_digits,
                    d.max_digits, tuple(d.pause_ms), d.speakers, tuple(d.edge_ms))


def load(run_dir: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    from seq2seq.inference.synthesizer import Synthesizer

    return Synthesizer.load(run_dir, device="cpu")


# ---- children -----------------------------------------------------------------------------------------------

def child_model(run_dir: str, batch: int, threads: int, count: int, repeat: int) -> None:
    import torch
    from seq2seq.data.audio.features import framing
    from seq2seq.data.audio.speech import feature_settings

    started = time.perf_counter()
    voice = load(run_dir, threads)
    startup = time.perf_counter() - started
    task, model = voice.run.task, voice.model
    task.config.decode.batch_size = batch                   # TextToSpeechTask.synthesize batches by it
    ids = voice.encode([u.text for u in strings(voice.config, count)])      # outside the timing
    hop = framing(voice.vocab.sample_rate, feature_settings(voice.config.data)).hop
    torch.manual_seed(0)
    task.synthesize(model, ids[:batch])                     # warm-up
    times, out = [], []
    for _ in range(repeat):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        out = task.synthesize(model, ids)
        times.append(time.perf_counter() - t0)
    seconds = common.median(times)
    frames = sum(len(o.frames) for o in out)
    audio_s = sum(max(1, (len(o.frames) - 1) * hop) for o in out) / voice.vocab.sample_rate
    steps = sum(len(o.frames) for o in out) // voice.config.model.head.reduction
    common.child_result({
        "part": "model", "batch": batch, "threads": torch.get_num_threads(), "texts": len(ids),
        "input_tokens": sum(len(i) for i in ids), "frames": frames, "decoder_steps": steps,
        "audio_s": round(audio_s, 2), "synthesis_s": round(seconds, 4), "passes_s": [round(t, 4) for t in times],
        "audio_s_per_s": round(audio_s / seconds, 2), "rtf": round(seconds / audio_s, 5),
        "frames_per_s": round(frames / seconds, 1), "texts_per_s": round(len(ids) / seconds, 2),
        "stopped": sum(o.stopped for o in out), "max_steps": voice.config.model.head.max_steps,
        "reduction": voice.config.model.head.reduction, "startup_s": round(startup, 2)})


def child_vocoder(run_dir: str, iters: int, threads: int, count: int, repeat: int) -> None:
    import torch
    from seq2seq.data.audio.wav import Audio
    from seq2seq.data.audio.speech import feature_settings, features_of
    from seq2seq.data.audio.vocoder import mel_to_audio, mel_to_linear

    voice = load(run_dir, threads)
    settings = feature_settings(voice.config.data)
    utts = strings(voice.config, count)
    mels = [(features_of(Audio(u.samples, u.sample_rate, ""), settings), u.sample_rate) for u in utts]
    mel_to_audio(mels[0][0], mels[0][1], settings, iterations=iters)      # warm-up
    times, linear_times, audio_s = [], [], 0.0
    for _ in range(max(1, repeat)):
        audio_s = 0.0
        t0 = time.perf_counter()
        for n, (mel, rate) in enumerate(mels):
            audio_s += len(mel_to_audio(mel, rate, settings, iterations=iters, seed=n)) / rate
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for mel, rate in mels:
            mel_to_linear(mel, rate, settings)
        linear_times.append(time.perf_counter() - t0)
    seconds, linear = common.median(times), common.median(linear_times)
    common.child_result({
        "part": "vocoder", "iterations": iters, "threads": torch.get_num_threads(), "utterances": len(mels),
        "frames": sum(len(m) for m, _ in mels), "audio_s": round(audio_s, 2), "vocoder_s": round(seconds, 4),
        "passes_s": [round(t, 4) for t in times], "audio_s_per_s": round(audio_s / seconds, 2),
        "rtf": round(seconds / audio_s, 5), "mel_to_linear_share": round(linear / seconds, 3),
        "sample_rate": mels[0][1]})


def tts_batch(data, ids) -> tuple[int, int, int, int]:
    """(frames, padded frames, utterances, input tokens) of one training batch."""
    frames = [len(data.train_tgt[i]) for i in ids]                  # text_to_speech: targets are the frames
    return (sum(frames), max(frames) * len(ids), len(ids), sum(len(data.train_src[i]) for i in ids))


def child_train(run_dir: str, threads: int, steps: int, window: int, train_size: int | None) -> None:
    run = Path(run_dir).resolve()
    run_config = check_run(str(run))
    recordings(run_config)
    size = train_size or run_config.data.digits.train_size
    config = common.train_config(run, steps, threads, size)
    training = common.timed_training(config, tts_batch)
    head = config.model.head
    task_fields = {"reduction": head.reduction, "guided_attention": head.guided_attention}
    common.child_result(common.training_record(config, training, size, steps, window, task_fields))


# ---- the table ----------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    """The command line, with the defaults (or --quick's) filled in."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--child", choices=["model", "vocoder", "train"], help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help=f"a small version to check the script works (a few minutes): {QUICK}")
    ap.add_argument("--batch", type=int, nargs="+", help="model batch sizes (default 1 16)")
    ap.add_argument("--iters", type=int, nargs="+", help="Griffin-Lim iteration counts (default 32 60)")
    ap.add_argument("--texts", type=int, help="benchmark texts (default 64)")
    ap.add_argument("--repeat", type=int, help="timed passes per row (median; default 3)")
    ap.add_argument("--steps", type=int, help="training updates (default 60)")
    ap.add_argument("--window", type=int, help="updates per training window (default 10)")
    ap.add_argument("--train-size", type=int, help="training strings generated (default: the run's train_size)")
    args = ap.parse_args()
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def run_as_child(args: argparse.Namespace) -> None:
    """One measurement, in this process (`--child PART`)."""
    if args.child == "model":
        return child_model(args.run_dir, args.batch[0], args.threads, args.texts, args.repeat)
    if args.child == "vocoder":
        return child_vocoder(args.run_dir, args.iters[0], args.threads, args.texts, args.repeat)
    return child_train(args.run_dir, args.threads, args.steps, args.window, args.train_size)


def measure_synthesis(script: str, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """One model child per batch size, one vocoder child per iteration count."""
    shared = [args.run_dir, "--threads", str(args.threads), "--texts", str(args.texts), "--repeat", str(args.repeat)]
    models, vocoders = [], []
    for batch in args.batch:
        r = common.run_child(script, ["model", *shared, "--batch", str(batch)])
        models.append(r)
        print(f"model batch {batch}: {r['audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    for iters in args.iters:
        r = common.run_child(script, ["vocoder", *shared, "--iters", str(iters)])
        vocoders.append(r)
        print(f"Griffin-Lim {iters} iterations: {r['audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    return models, vocoders


def synthesis_rows(models: list[dict], vocoders: list[dict]) -> tuple[list[list], list[dict]]:
    """The synthesis table's rows (model, Griffin-Lim, derived model + Griffin-Lim) and the derived speeds."""
    rows = []
    for r in models:
        rows.append([f"model (frames, no vocoder), batch {r['batch']}", r["audio_s_per_s"], f"{r['rtf']:.2g}",
                     r["frames_per_s"], r["texts_per_s"], f"{r['stopped']}/{r['texts']}", r["peak_rss_mib"]])
    for v in vocoders:
        rows.append([f"Griffin-Lim {v['iterations']} iterations (one utterance at a time; "
                     f"{100 * v['mel_to_linear_share']:.0f}% in mel → linear)", v["audio_s_per_s"],
                     f"{v['rtf']:.2g}", round(v["frames"] / v["vocoder_s"], 1),
                     round(v["utterances"] / v["vocoder_s"], 2), "", v["peak_rss_mib"]])
    combined = []
    for r in models:
        for v in vocoders:
            speed = 1 / (1 / r["audio_s_per_s"] + 1 / v["audio_s_per_s"])
            combined.append({"batch": r["batch"], "iterations": v["iterations"], "audio_s_per_s": round(speed, 2)})
            rows.append([f"model batch {r['batch']} + Griffin-Lim {v['iterations']} (derived)", round(speed, 2),
                         f"{1 / speed:.2g}", "", "", "", ""])
    return rows, combined


def synthesis_table(models: list[dict], vocoders: list[dict], rows: list[list], repeat: int) -> str:
    first = models[0]
    text = (f"Synthesis: {first['texts']} texts ({first['input_tokens']} words), median of {repeat} pass(es); "
            f"model audio = the frames it wrote ({first['frames']:,} at batch {first['batch']}, max_steps "
            f"{first['max_steps']} × r {first['reduction']}); Griffin-Lim on the real strings' log-mel "
            f"({vocoders[0]['audio_s']:.1f} s of audio)\n\n")
    return text + common.table(["what", "audio s / s (×real time)", "RTF", "frames/s", "texts/s", "stopped",
                                "peak RSS MiB"], rows)


def training_table(train: dict) -> str:
    text = (f"\n\nTraining ({train['parameters']:,} parameters, batch {common.train_budget(train)}, "
            f"{train['precision']}, r = {train['reduction']}, guided attention {train['guided_attention']}; median "
            f"of {len(train['windows'])} window(s) of {train['window']} updates after a warm-up one):\n\n")
    return text + common.table(["frames/s", "windows", "audio s / s", "utterances/s", "input tok/s", "s / update",
                                "padded/real frames", "peak RSS MiB"],
                               [[train["frames_per_s"], common.window_range(train), train["audio_s_per_s"],
                                 train["utterances_per_s"], train["tokens_per_s"], train["s_per_update"],
                                 train["padded_ratio"], train["peak_rss_mib"]]])


def main() -> None:
    args = parse_args()
    if args.child:
        return run_as_child(args)
    config = check_run(args.run_dir)
    recordings(config)
    script = f"{NAME}.py"            # common.run_child runs `python benchmarks/SCRIPT --child ARGS`
    models, vocoders = measure_synthesis(script, args)
    train = common.run_train_child(script, args)
    rows, combined = synthesis_rows(models, vocoders)
    text = synthesis_table(models, vocoders, rows, args.repeat) + training_table(train)
    text += f"\n\n{args.threads} threads" + (" (--quick: a smoke test, not a measurement)" if args.quick else "")
    common.save(NAME, {"run_dir": args.run_dir, "threads": args.threads, "quick": args.quick, "seed": SEED,
                       "texts": args.texts, "repeat": args.repeat, "model": models, "vocoder": vocoders,
                       "model_plus_vocoder": combined, "training": train}, text)


if __name__ == "__main__":
    main()
