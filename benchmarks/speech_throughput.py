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
    from seq2seq.data.audio import spoken_digits
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
    from seq2seq.data.audio.spoken_digits import generate

    return generate(folder, count, INDICES, SEED)


def load(run_dir: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    from seq2seq.inference.transcriber import Transcriber

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
    from seq2seq.data.audio.wav import write_wav

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


def train_run(run_dir: str):
    """The run's folder and config; exits with one line when it is not a speech_to_text run on the spoken digits."""
    from seq2seq import checkpoint as ckpt

    run = Path(run_dir).resolve()
    run_config = ckpt.read_config(run)
    if run_config.task != "speech_to_text":
        sys.exit(f"{run_dir} is a {run_config.task} run: this benchmark needs a speech_to_text run")
    if run_config.data.digits is None:
        sys.exit(f"{run_dir} does not train on the spoken digits (data.digits): this benchmark needs them")
    recordings(run_config)
    return run, run_config


def speech_batch(data, ids) -> tuple[int, int, int, int]:
    """(frames, padded frames, utterances, target tokens) of one training batch; EOS counted in the tokens."""
    lengths = [len(data.train_src[i]) for i in ids]                 # speech_to_text: sources are the frames
    return (sum(lengths), max(lengths) * len(ids), len(ids), sum(len(data.train_tgt[i]) + 1 for i in ids))


def child_train(run_dir: str, threads: int, steps: int, window: int, train_size: int | None) -> None:
    run, run_config = train_run(run_dir)
    size = train_size or run_config.data.digits.train_size
    config = common.train_config(run, steps, threads, size)
    training = common.timed_training(config, speech_batch, time_batches=True)   # batch assembly + SpecAugment timed
    spec = config.data.spec_augment
    common.child_result(common.training_record(
        config, training, size, steps, window, {"spec_augment": spec.model_dump() if spec is not None else None}))


# ---- the table ----------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    """The command line, with the defaults (or --quick's) filled in."""
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
    return args


def run_as_child(args: argparse.Namespace) -> None:
    """One measurement, in this process (`--child PART`)."""
    if args.child == "transcribe":
        return child_transcribe(args.run_dir, args.beam[0], args.batch[0], args.threads, args.utterances,
                                args.repeat)
    if args.child == "features":
        return child_features(args.run_dir, args.threads, args.utterances, args.repeat)
    return child_train(args.run_dir, args.threads, args.steps, args.window, args.train_size)


def measure_transcription(script: str, args: argparse.Namespace, common_args: list[str]) -> list[dict]:
    """One transcription child per (beam, batch size)."""
    transcription = []
    for beam in args.beam:
        for batch in args.batch:
            r = common.run_child(script, ["transcribe", *common_args, "--beam", str(beam), "--batch", str(batch)])
            transcription.append(r)
            print(f"beam {beam} batch {batch}: {r['audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    return transcription


def transcription_table(transcription: list[dict], repeat: int) -> str:
    rows = [["greedy" if r["beam"] == 1 else f"beam {r['beam']}", r["batch"], r["audio_s_per_s"], f"{r['rtf']:.2g}",
             r["utterances_per_s"], r["output_tokens_per_s"], r["wer"], r["peak_rss_mib"]] for r in transcription]
    first = transcription[0]
    text = (f"Transcription: {first['utterances']} utterances, {first['audio_s']:.1f} s of audio "
            f"({first['frames']:,} frames), features computed beforehand; median of {repeat} passes\n\n")
    return text + common.table(["search", "batch", "audio s / s (×real time)", "RTF", "utterances/s", "output tok/s",
                                "WER % (check)", "peak RSS MiB"], rows)


def features_table(features: dict) -> str:
    return "\n\nFeature extraction (audio s / s):\n\n" + common.table(
        ["input", "audio s / s", "s per pass", "peak RSS MiB"],
        [["WAV file → read + log-mel + normalise", features["wav_audio_s_per_s"], f"{features['wav_s']:.3f}",
          features["peak_rss_mib"]],
         ["samples in memory → log-mel + normalise", features["memory_audio_s_per_s"], f"{features['memory_s']:.3f}",
          ""]])


def training_table(train: dict) -> str:
    spec = "SpecAugment on" if train["spec_augment"] else "no SpecAugment"
    text = (f"\n\nTraining ({train['parameters']:,} parameters, batch {common.train_budget(train)}, "
            f"{train['precision']}, {spec}; median of "
            f"{len(train['windows'])} window(s) of {train['window']} updates after a warm-up one):\n\n")
    return text + common.table(["frames/s", "windows", "audio s / s", "utterances/s", "target tok/s", "s / update",
                                "batch+SpecAugment share", "padded/real frames", "peak RSS MiB"],
                               [[train["frames_per_s"], common.window_range(train), train["audio_s_per_s"],
                                 train["utterances_per_s"], train["tokens_per_s"], train["s_per_update"],
                                 train["batch_and_augment_share"], train["padded_ratio"], train["peak_rss_mib"]]])


def main() -> None:
    args = parse_args()
    if args.child:
        return run_as_child(args)
    check_run(args.run_dir)
    script = f"{NAME}.py"            # common.run_child runs `python benchmarks/SCRIPT --child ARGS`
    common_args = [args.run_dir, "--threads", str(args.threads), "--utterances", str(args.utterances), "--repeat",
                   str(args.repeat)]
    transcription = measure_transcription(script, args, common_args)
    features = common.run_child(script, ["features", *common_args])
    print(f"features: {features['wav_audio_s_per_s']}× real time", file=sys.stderr, flush=True)
    train = common.run_train_child(script, args)
    text = transcription_table(transcription, args.repeat) + features_table(features) + training_table(train)
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
