"""Speed of a speech_to_text run (e.g. configs/fsdd_digits.yaml): transcription as real-time factors, feature
extraction, and training throughput of the run's config.

    .venv/bin/python benchmarks/speech_throughput.py RUN_DIR [--threads 2] [--quick] [--batch 1 16 64] [--beam 1 5]
        [--utterances 128] [--repeat 5] [--steps 100] [--window 10] [--train-size N]

RUN_DIR: a trained speech_to_text run (`seq2seq train configs/fsdd_digits.yaml --run-dir runs/fsdd_digits`). The
utterances are connected digit strings built from the shared FSDD clips (`spoken_digits.generate`): a fixed set of
`--utterances` strings of 1-7 digits from clip indices 5-9 (validation-style: recordings training never heard),
seed 2024, the same for every run. Every measurement runs in its own process (peak RSS is its own):
- transcription, one row per (search, batch size): `Transcriber.transcribe_features` on the loaded run's model
  (greedy, or beam search with the run's decode settings; attention kept, as `Transcriber.transcribe` does). The
  features are computed before the timed region; one warm-up pass on the first 16 utterances, then the median of
  `--repeat` timed passes over all of them. Speed = audio seconds transcribed per wall-clock second (×real time),
  RTF = its inverse. WER against the strings' words is shown as a check that the model decodes sensibly.
- feature extraction: the utterances written as 16-bit WAV files (outside the timing), then `Transcriber.features`
  of each path (read WAV + log-mel + the run's normalisation), median of `--repeat` passes (the files are in the
  page cache after the first); also the same from samples already in memory (log-mel + normalisation only).
- training: the run's config (model, batch size, optimizer, SpecAugment as configured, precision) trained from
  fresh weights by the real loop (`training.trainer.Trainer`) in a temporary folder, for `--steps` updates with
  the run's vocabulary and feature normaliser (tokenizer.from_run). Data generation and encoding, the first
  checkpoint and the validation after the loop are outside the timing: the on_step callback timestamps each update
  (batch assembly + SpecAugment + forward + backward + clipping + optimizer step), there is no validation or
  checkpoint inside the loop. Update 1 is not in any window, the first window of `--window` updates is warm-up,
  the figures are medians of the other windows: real (unpadded) feature frames per second, utterances per second,
  target tokens per second (EOS included), audio seconds per second (frames × hop). The training strings are the
  run's own draw (data.digits, first `--train-size` of them; default: the run's train_size).

Figures from an untrained or barely trained run are a smoke test only: an untrained model's outputs run to other
lengths than a trained one's, which changes decoding time. Writes benchmarks/results/speech_throughput.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "speech_throughput"
SEED = 2024                 # the fixed draw of benchmark utterances
INDICES = range(5, 10)      # FSDD clip indices of validation strings (training strings use 10-49)
WARMUP = 16                 # utterances in the untimed warm-up pass of a transcription row
QUICK = {"utterances": 24, "batch": [1, 16], "repeat": 2, "steps": 9, "window": 4, "train_size": 128}


def recordings(run_config=None) -> Path:
    """The FSDD recordings folder: the run's data.digits.recordings, else the shared copy; exits when absent."""
    from seq2seq.data import spoken_digits
    from seq2seq.data.shared import ENV

    digits = getattr(run_config.data, "digits", None) if run_config is not None else None
    if digits is not None and digits.recordings:
        folder = Path(digits.recordings)
        if not folder.is_dir():
            sys.exit(f"benchmark needs the FSDD recordings: {folder} (the run's data.digits.recordings) not found")
        return folder
    folder = spoken_digits.shared_recordings()
    if folder is None:
        sys.exit(f"benchmark needs the FSDD recordings in the shared data folder (fsdd/recordings; set {ENV} to the "
                 f"data folder)")
    return folder


def utterances(count: int, folder: Path):
    from seq2seq.data.spoken_digits import generate

    return generate(folder, count, INDICES, SEED)


def load(run_dir: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    from seq2seq.transcriber import Transcriber

    return Transcriber.load(run_dir, device="cpu")


# ---- children -----------------------------------------------------------------------------------------------

def child_transcribe(run_dir: str, beam: int, batch: int, threads: int, count: int, repeat: int) -> None:
    import torch
    from seq2seq.metrics import word_error_rate

    started = time.perf_counter()
    transcriber = load(run_dir, threads)
    startup = time.perf_counter() - started
    utts = utterances(count, recordings(transcriber.config))
    frames = [transcriber.features((u.samples, u.sample_rate)) for u in utts]        # outside the timing
    origins = [f"<utterance {n}>" for n in range(1, len(utts) + 1)]
    audio_s = sum(len(u.samples) / u.sample_rate for u in utts)
    transcriber.transcribe_features(frames[:WARMUP], origins[:WARMUP], beam_size=beam, batch_size=batch)  # warm-up
    times, out = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = transcriber.transcribe_features(frames, origins, beam_size=beam, batch_size=batch)
        times.append(time.perf_counter() - t0)
    seconds = common.median(times)
    tokens = sum(len(t.tokens) for t in out)                                      # </s> included when reached
    common.child_result({
        "part": "transcribe", "beam": beam, "batch": batch, "threads": torch.get_num_threads(),
        "utterances": len(utts), "audio_s": round(audio_s, 2), "frames": sum(len(f) for f in frames),
        "decode_s": round(seconds, 4), "passes_s": [round(t, 4) for t in times],
        "audio_s_per_s": round(audio_s / seconds, 1), "rtf": round(seconds / audio_s, 5),
        "utterances_per_s": round(len(utts) / seconds, 1), "output_tokens_per_s": round(tokens / seconds, 1),
        "output_tokens": tokens, "finished": sum(bool(t.tokens) and t.tokens[-1] == "</s>" for t in out),
        "wer": word_error_rate([t.text for t in out], [u.text for u in utts]), "startup_s": round(startup, 2)})


def child_features(run_dir: str, threads: int, count: int, repeat: int) -> None:
    import torch
    from seq2seq.data.audio import write_wav

    transcriber = load(run_dir, threads)
    utts = utterances(count, recordings(transcriber.config))
    audio_s = sum(len(u.samples) / u.sample_rate for u in utts)
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"utterance{n:04d}.wav" for n in range(len(utts))]
        for path, u in zip(paths, utts):
            write_wav(path, u.samples, u.sample_rate)
        arrays = [(u.samples, u.sample_rate) for u in utts]
        passes = max(repeat, 5)              # a pass is short: at least five
        transcriber.features(paths[0])       # warm-up (mel filterbank, window)
        from_files, in_memory = [], []
        for _ in range(passes):
            t0 = time.perf_counter()
            frames = sum(len(transcriber.features(p)) for p in paths)
            from_files.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for a in arrays:
                transcriber.features(a)
            in_memory.append(time.perf_counter() - t0)
    files_s, memory_s = common.median(from_files), common.median(in_memory)
    common.child_result({
        "part": "features", "threads": torch.get_num_threads(), "utterances": len(utts),
        "audio_s": round(audio_s, 2), "frames": frames, "sample_rate": utts[0].sample_rate,
        "wav_s": round(files_s, 4), "wav_passes_s": [round(t, 4) for t in from_files],
        "wav_audio_s_per_s": round(audio_s / files_s, 1),
        "memory_s": round(memory_s, 4), "memory_passes_s": [round(t, 4) for t in in_memory],
        "memory_audio_s_per_s": round(audio_s / memory_s, 1)})


def child_train(run_dir: str, threads: int, steps: int, window: int, train_size: int | None) -> None:
    import torch
    from seq2seq import checkpoint as ckpt
    from seq2seq.config import load_config
    from seq2seq.training.trainer import Trainer

    run = Path(run_dir).resolve()
    run_config = ckpt.read_config(run)
    if run_config.task != "speech_to_text":
        sys.exit(f"{run_dir} is a {run_config.task} run: this benchmark needs a speech_to_text run")
    digits = run_config.data.digits
    if digits is None:
        sys.exit(f"{run_dir} does not train on the spoken digits (data.digits): this benchmark needs them")
    recordings(run_config)
    size = train_size or digits.train_size
    config = load_config(run / ckpt.CONFIG, [
        f"tokenizer.from_run={run}", f"train.max_steps={steps}", f"train.threads={threads}", "train.device=cpu",
        f"train.valid_every={10**9}", "train.save_every=null", "train.save_minutes=null", "train.tensorboard=false",
        "train.attention_plots=0", f"data.digits.train_size={size}", "data.digits.valid_size=8"])
    hop_s = config.data.features.hop_ms / 1000
    updates: list[tuple[float, int, int, int, int]] = []   # (time after it, frames, padded frames, utterances, tokens)
    prepared = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, Path(folder) / "run", verbose=False)
        prepare_s = time.perf_counter() - prepared
        data, assembly = trainer.data, []
        train_batch = data.train_batch

        def timed_batch(ids):           # batch assembly + SpecAugment, inside the update
            t0 = time.perf_counter()
            batch = train_batch(ids)
            assembly.append(time.perf_counter() - t0)
            return batch

        def on_step(step: int, loss: float) -> None:
            now = time.perf_counter()
            ids = trainer.plan[trainer.state.batch_in_epoch - 1]      # the batch this update trained on
            lengths = [len(data.train_src[i]) for i in ids]
            updates.append((now, sum(lengths), max(lengths) * len(ids), len(ids),
                            sum(len(data.train_tgt[i]) + 1 for i in ids)))

        data.train_batch = timed_batch
        trainer.on_step = on_step
        result = trainer.run()
        parameters = trainer.model.num_parameters()
        kept = len(data.train_src)
    windows = []
    for start in range(0, len(updates) - window, window):           # update 1 (index 0) only starts the clock
        part = updates[start + 1 : start + window + 1]
        seconds = part[-1][0] - updates[start][0]
        frames, padded, utts, tokens = (sum(u[k] for u in part) for k in (1, 2, 3, 4))
        windows.append({"updates": len(part), "s": round(seconds, 4), "frames_per_s": round(frames / seconds, 1),
                        "utterances_per_s": round(utts / seconds, 2), "tokens_per_s": round(tokens / seconds, 1),
                        "padded_ratio": round(padded / frames, 3)})
    if len(windows) < 2:
        sys.exit(f"--steps {steps} with --window {window}: need at least 1 + 2 windows of updates")
    timed = windows[1:]                                              # the first window is warm-up
    frames_s = common.median([w["frames_per_s"] for w in timed])
    spec = config.data.spec_augment
    common.child_result({
        "part": "train", "threads": torch.get_num_threads(), "parameters": parameters,
        "batch_sentences": config.train.batch_sentences, "batch_tokens": config.train.batch_tokens,
        "precision": config.train.precision, "spec_augment": spec.model_dump() if spec is not None else None,
        "train_size": size, "train_kept": kept, "updates": result.steps, "skipped_nonfinite": result.skipped_nonfinite,
        "window": window, "windows": timed, "warmup_window": windows[0],
        "frames_per_s": round(frames_s, 1), "audio_s_per_s": round(frames_s * hop_s, 2),
        "utterances_per_s": round(common.median([w["utterances_per_s"] for w in timed]), 2),
        "tokens_per_s": round(common.median([w["tokens_per_s"] for w in timed]), 1),
        "s_per_update": round(common.median([w["s"] / w["updates"] for w in timed]), 4),
        "batch_and_augment_share": round(sum(assembly[window + 1 :]) / max(1e-9, updates[-1][0] - updates[window][0]),
                                         3),
        "padded_ratio": round(sum(u[2] for u in updates[window + 1 :]) / sum(u[1] for u in updates[window + 1 :]), 3),
        "prepare_s": round(prepare_s, 1)})


# ---- the table ----------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--child", choices=["transcribe", "features", "train"], help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help=f"a small version to check the script works (under a minute): {QUICK}")
    ap.add_argument("--batch", type=int, nargs="+", help="transcription batch sizes (default 1 16 64)")
    ap.add_argument("--beam", type=int, nargs="+", default=[1, 5], help="beam sizes (1 = greedy; default 1 5)")
    ap.add_argument("--utterances", type=int, help="benchmark utterances (default 128)")
    ap.add_argument("--repeat", type=int, help="timed passes per transcription row (median; default 5)")
    ap.add_argument("--steps", type=int, help="training updates (default 100)")
    ap.add_argument("--window", type=int, help="updates per training window (default 10)")
    ap.add_argument("--train-size", type=int, help="training strings generated (default: the run's train_size)")
    args = ap.parse_args()
    defaults = QUICK if args.quick else {"utterances": 128, "batch": [1, 16, 64], "repeat": 5, "steps": 100,
                                         "window": 10, "train_size": None}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.child == "transcribe":
        return child_transcribe(args.run_dir, args.beam[0], args.batch[0], args.threads, args.utterances,
                                args.repeat)
    if args.child == "features":
        return child_features(args.run_dir, args.threads, args.utterances, args.repeat)
    if args.child == "train":
        return child_train(args.run_dir, args.threads, args.steps, args.window, args.train_size)
    check_run(args.run_dir)
    script = f"{NAME}.py"            # common.run_child runs `python benchmarks/SCRIPT --child ARGS`
    common_args = [args.run_dir, "--threads", str(args.threads), "--utterances", str(args.utterances), "--repeat",
                   str(args.repeat)]
    rows, transcription = [], []
    for beam in args.beam:
        for batch in args.batch:
            r = common.run_child(script, ["transcribe", *common_args, "--beam", str(beam), "--batch", str(batch)])
            transcription.append(r)
            rows.append(["greedy" if beam == 1 else f"beam {beam}", batch, r["audio_s_per_s"], f"{r['rtf']:.2g}",
                         r["utterances_per_s"], r["output_tokens_per_s"], r["wer"], r["peak_rss_mib"]])
            print(f"beam {beam} batch {batch}: {r['audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    features = common.run_child(script, ["features", *common_args])
    print(f"features: {features['wav_audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    train = common.run_child(script, ["train", args.run_dir, "--threads", str(args.threads), "--steps",
                                      str(args.steps), "--window", str(args.window),
                                      *(["--train-size", str(args.train_size)] if args.train_size else [])])
    print(f"training: {train['frames_per_s']:,.0f} frames/s", file=sys.stderr, flush=True)
    first = transcription[0]
    text = (f"Transcription: {first['utterances']} utterances, {first['audio_s']:.1f} s of audio "
            f"({first['frames']:,} frames), features computed beforehand; median of {args.repeat} passes\n\n")
    text += common.table(["search", "batch", "audio s / s (×real time)", "RTF", "utterances/s", "output tok/s",
                          "WER % (check)", "peak RSS MiB"], rows)
    text += "\n\nFeature extraction (audio s / s):\n\n" + common.table(
        ["input", "audio s / s", "s per pass", "peak RSS MiB"],
        [["WAV file → read + log-mel + normalise", features["wav_audio_s_per_s"], f"{features['wav_s']:.3f}",
          features["peak_rss_mib"]],
         ["samples in memory → log-mel + normalise", features["memory_audio_s_per_s"], f"{features['memory_s']:.3f}",
          ""]])
    spec = "SpecAugment on" if train["spec_augment"] else "no SpecAugment"
    budget = f"{train['batch_sentences']}" if train["batch_sentences"] else f"{train['batch_tokens']} tokens"
    text += (f"\n\nTraining ({train['parameters']:,} parameters, batch {budget}, {train['precision']}, {spec}; "
             f"median of "
             f"{len(train['windows'])} window(s) of {train['window']} updates after a warm-up one):\n\n")
    frames_all = [w["frames_per_s"] for w in train["windows"]]
    text += common.table(["frames/s", "windows", "audio s / s", "utterances/s", "target tok/s", "s / update",
                          "batch+SpecAugment share", "padded/real frames", "peak RSS MiB"],
                         [[train["frames_per_s"], f"{min(frames_all):,.0f}–{max(frames_all):,.0f}",
                           train["audio_s_per_s"], train["utterances_per_s"], train["tokens_per_s"],
                           train["s_per_update"], train["batch_and_augment_share"], train["padded_ratio"],
                           train["peak_rss_mib"]]])
    text += f"\n\n{args.threads} threads" + (" (--quick: a smoke test, not a measurement)" if args.quick else "")
    common.save(NAME, {"run_dir": args.run_dir, "threads": args.threads, "quick": args.quick, "seed": SEED,
                       "clip_indices": [INDICES.start, INDICES.stop - 1], "utterances": args.utterances,
                       "repeat": args.repeat, "transcription": transcription, "features": features,
                       "training": train}, text)


def check_run(run_dir: str) -> None:
    """Fail early, in the parent, with one line: not a run, not speech_to_text, no recordings."""
    from seq2seq import checkpoint as ckpt
    from seq2seq.errors import UserError

    try:
        config = ckpt.read_config(Path(run_dir))
    except UserError as exc:
        sys.exit(str(exc))
    if config.task != "speech_to_text":
        sys.exit(f"{run_dir} is a {config.task} run: this benchmark needs a speech_to_text run")
    recordings(config)


if __name__ == "__main__":
    main()
