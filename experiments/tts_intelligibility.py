"""Experiment — is the synthesised speech intelligible? A speech→text recogniser trained on real recordings only
transcribes what a text_to_speech run says, beside the same recogniser on the real recordings and on the real
recordings passed through the vocoder alone.

    .venv/bin/python experiments/tts_intelligibility.py TTS_RUN ASR_RUN [--strings 100] [--iters 60] [--repeats 10]
        [--seed 4321] [--threads 1]

TTS_RUN: a text_to_speech run trained on the spoken digits (configs/fsdd_tts.yaml); ASR_RUN: a speech_to_text run
(configs/fsdd_digits.yaml), which never hears synthetic audio. Targets (the issue): WER ≤ 10 % on the synthesised
strings; each of the ten digit words, synthesised alone 10 times, recognised correctly at least 9 times.

The strings: `--strings` validation-style connected digit strings drawn with `spoken_digits.generate` from the TTS
run's own data.digits settings (its speakers, valid_indices, min/max digits, pause_ms, edge_ms; recordings from
data.digits.recordings or the shared copy), seed `--seed` (a fresh draw, not the run's validation set, built from
the same clips, which training never heard). For each string:
- real: the generated recording itself;
- Griffin-Lim: its log-mel (the TTS run's feature settings, at the recording's rate) → `vocoder.mel_to_audio`
  with `--iters` iterations and the defaults the Synthesizer uses (momentum 0.99, power 1.5): the vocoder's own
  ceiling, what perfect frames would sound like;
- TTS: `Synthesizer.synthesize` of its text (torch.manual_seed(seed) first: the prenet's dropout stays on at
  inference; Griffin-Lim seed `--seed`).
All three are transcribed by ASR_RUN (`Transcriber.transcribe` of (samples, rate), the run's decode settings);
WER = word edits / reference words over the whole set (`metrics.word_error_rate`), plus exact-string accuracy.

Mel-cepstral distortion with DTW, against the real recording's log-mel X (frames, M bands; natural log of power,
`features.log_mel`): cepstra c_t,k = sqrt(2/M) · Σ_m X_t,m · cos(π·k·(m + ½)/M) for k = 1..13 (the orthonormal
DCT-II over the bands, c_0, the loudness, left out); a dynamic-time-warping path between the two cepstrum
sequences (steps (1,0), (0,1), (1,1), cost d(t, u) = ||c_t − c'_u||₂, minimising the summed cost, from the first
pair of frames to the last); then MCD = (10 / ln 10) · sqrt(2) · (1/|P|) · Σ_(t,u)∈P ||c_t − c'_u||₂ in dB, averaged
over strings. Reported for the TTS frames as written (the model's log-mel, before the vocoder), for the TTS audio
re-featurised (log-mel of the Griffin-Lim waveform), and for the Griffin-Lim resynthesis re-featurised (the
vocoder's own distortion). The Synthesizer's vocoder sharpens with power 1.5, which stretches every log-mel
deviation by about 1.5, so the re-featurised columns mostly measure that sharpening; for scale the report adds the
exact round trip (power 1.0) of the real strings. The cepstra are of log power (the feature's log), twice those of
log amplitude: MCD on ln|X| would be half these values; and a 40-band mel DCT is not SPTK's mel-cepstrum, so the
values compare within this table, not with published MCDs.

Stop-length error: |frames_TTS − frames_real| / frames_real per string (frames_real: log-mel frames of the real
recording, what the run trained on; the model writes `reduction` frames a step, so up to r − 1 frames of it are
rounding), mean and median, and the share of syntheses whose stop flag never fired (ran to model.head.max_steps).

Attention diagonality, per synthesis (attention A: decoder steps T × input tokens N): monotonic share = share of
steps t = 2..T whose argmax token is ≥ step t − 1's; coverage = share of input tokens that are some step's argmax
(a map stuck on one token is monotonic but covers little); guided-attention cost = `guided_attention_loss(A)` / T,
the mean per-step cost of the training prior (Tachibana et al.: Σ_n A[t,n]·(1 − exp(−(n/N − t/T)²/2g²)), g the
run's model.head.guided_width; 0 on the diagonal, up to 1 far from it). Means over syntheses.

Isolated digits: each of the ten words synthesised alone `--repeats` times, repetition i with torch.manual_seed
and Griffin-Lim seed `--seed` + i (the ten words of a repetition are one batch); a word counts as recognised when
the transcript is exactly that word. Beside it, the recogniser on the TTS speaker(s)' real clips of that word from
valid_indices (silence-trimmed, with the mean edge_ms of silence added at both ends, as in the strings).

Writes experiments/results/tts_intelligibility.md (and .png: the first string's real and synthesised log-mel and
the synthesis's attention) and prints the markdown. Figures from an untrained or barely trained run
are a smoke test only.
"""

from __future__ import annotations

import argparse
import importlib
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
N_CEPSTRA = 13              # cepstral coefficients 1..13 (c_0 left out)
WER_TARGET = 10.0           # % on the synthesised strings
ISOLATED_TARGET = 9         # correct of 10 per word


# ---- measures -------------------------------------------------------------------------------------------------

def cepstra(log_mel: np.ndarray, count: int = N_CEPSTRA) -> np.ndarray:
    """(frames, M) log-mel → (frames, count) coefficients 1..count of its orthonormal DCT-II over the bands:
    c_k = sqrt(2/M) Σ_m x_m cos(π k (m + ½) / M)."""
    bands = log_mel.shape[1]
    k = np.arange(1, count + 1)[:, None]                                    # (count, 1)
    m = np.arange(bands)[None, :]                                           # (1, M)
    basis = math.sqrt(2.0 / bands) * np.cos(math.pi * k * (m + 0.5) / bands)   # (count, M)
    return log_mel.astype(np.float64) @ basis.T                             # (frames, count)


def dtw(cost: np.ndarray) -> tuple[float, int]:
    """The cheapest monotonic path through `cost` (n, m) from (0, 0) to (n−1, m−1), steps (1,0), (0,1), (1,1):
    (its summed cost, its number of pairs). O(n·m), each anti-diagonal at once."""
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for diagonal in range(2, n + m + 1):                                    # cells with i + j = diagonal (1-based)
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        best = np.minimum(np.minimum(total[i - 1, j - 1], total[i - 1, j]), total[i, j - 1])
        total[i, j] = cost[i - 1, j - 1] + best
    i, j, pairs = n, m, 1
    while (i, j) != (1, 1):                                                 # walk back, diagonal first on ties
        moves = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(moves, key=lambda p: total[p])
        pairs += 1
    return float(total[n, m]), pairs


def mcd_dtw(log_mel: np.ndarray, reference: np.ndarray) -> float:
    """(10/ln 10)·sqrt(2)·mean over the DTW path of ||c − c'||₂, in dB (see the module docstring)."""
    a, b = cepstra(log_mel), cepstra(reference)
    if len(a) == 0 or len(b) == 0:
        return math.nan
    distance = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))    # (n, m)
    summed, pairs = dtw(distance)
    return 10.0 / math.log(10.0) * math.sqrt(2.0) * summed / pairs


def attention_measures(attention: np.ndarray, g: float) -> tuple[float, float, float]:
    """(monotonic share, coverage, guided-attention cost per step) of one (steps, tokens) map."""
    import torch

    from seq2seq.model.guided_attention import guided_attention_loss

    steps, tokens = attention.shape
    best = attention.argmax(1)
    monotonic = float((best[1:] >= best[:-1]).mean()) if steps > 1 else 1.0
    coverage = len(set(best.tolist())) / tokens
    weights = torch.from_numpy(attention).float()[None]                     # (1, steps, tokens)
    cost = guided_attention_loss(weights, torch.ones(1, steps, dtype=torch.bool), torch.tensor([tokens]), g)
    return monotonic, coverage, float(cost) / steps


# ---- the pieces ---------------------------------------------------------------------------------------------

def recordings_folder(digits) -> Path:
    from seq2seq.data.audio.spoken_digits import shared_recordings

    folder = Path(digits.recordings) if digits.recordings else shared_recordings()
    if folder is None or not folder.is_dir():
        raise SystemExit("the FSDD recordings are missing (the TTS run's data.digits.recordings, or the shared "
                         "data's fsdd/recordings)")
    return folder


def log_mel_of(samples: np.ndarray, rate: int, settings) -> np.ndarray:
    import torch

    from seq2seq.data.audio.features import log_mel

    return log_mel(torch.from_numpy(np.asarray(samples, dtype=np.float32)), rate, settings).numpy()


def transcribe(recogniser, audios: list[tuple[np.ndarray, int]]) -> list[str]:
    return [t.text for t in recogniser.transcribe(audios)]


def isolated_real(folder: Path, digits, recogniser) -> list[tuple[int, int]]:
    """(correct, clips) per digit word: the TTS speaker(s)' real clips from valid_indices, trimmed, edge-padded."""
    from seq2seq.data.audio.wav import read_wav, trim_silence
    from seq2seq.data.audio.spoken_digits import WORDS, index_clips

    index = index_clips(folder)
    low, high = digits.valid_indices
    speakers = digits.speakers or sorted({s for s, _ in index})
    out = []
    for digit, word in enumerate(WORDS):
        audios = []
        for speaker in speakers:
            for clip_index, path in index.get((speaker, digit), []):
                if low <= clip_index <= high:
                    audio = read_wav(path)
                    edge = np.zeros(round(sum(digits.edge_ms) / 2 * audio.sample_rate / 1000), dtype=np.float32)
                    audios.append((np.concatenate([edge, trim_silence(audio.samples, audio.sample_rate), edge]),
                                   audio.sample_rate))
        texts = transcribe(recogniser, audios) if audios else []
        out.append((sum(t == word for t in texts), len(audios)))
    return out


def isolated_tts(voice, recogniser, repeats: int, iters: int, seed: int) -> tuple[list[int], list[list[str]]]:
    """Correct count per word over `repeats` syntheses, and what was heard for each word."""
    import torch

    from seq2seq.data.audio.spoken_digits import WORDS

    heard: list[list[str]] = [[] for _ in WORDS]
    for repetition in range(repeats):
        torch.manual_seed(seed + repetition)
        said = voice.synthesize(list(WORDS), iterations=iters, seed=seed + repetition)
        for n, text in enumerate(transcribe(recogniser, [(s.samples, s.sample_rate) for s in said])):
            heard[n].append(text)
    return [sum(t == word for t in texts) for word, texts in zip(WORDS, heard)], heard


# ---- the report ---------------------------------------------------------------------------------------------

def mean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def report(args, tts_config, asr_config, strings, wer, counts, accuracy, mcd, stops, attention, isolated,
           real_isolated, heard, seconds) -> str:
    lines = _header_lines(args, tts_config, asr_config, len(strings), seconds)
    lines += _strings_lines(wer, counts, accuracy, mcd)
    lines += _length_lines(stops, attention)
    lines += _isolated_lines(args, tts_config.data.digits, isolated, real_isolated, heard)
    lines += _how_lines(tts_config)
    return "\n".join(lines)


def _header_lines(args, tts_config, asr_config, count: int, seconds: float) -> list[str]:
    """The title and what was measured: the runs, the strings' draw, the vocoder, the time taken."""
    d = tts_config.data.digits
    return [
        "# Intelligibility of synthesised speech (TTS → ASR)", "",
        f"TTS run `{args.tts_run}` ({tts_config.task}); ASR run `{args.asr_run}` ({asr_config.task}, trained on real "
        f"recordings only: clip indices {_indices(asr_config.data.digits, 'train')}). {count} validation-style "
        f"strings of speaker(s) {', '.join(d.speakers) if d.speakers else 'all'}, clip indices "
        f"{d.valid_indices[0]}–{d.valid_indices[1]}, {d.min_digits}–{d.max_digits} digits, pauses "
        f"{d.pause_ms[0]}–{d.pause_ms[1]} ms, edges {d.edge_ms[0]}–{d.edge_ms[1]} ms, seed {args.seed}; "
        f"Griffin-Lim {args.iters} iterations (momentum 0.99, power 1.5). {seconds:.0f} s.", ""]


def _strings_lines(wer, counts, accuracy, mcd) -> list[str]:
    """The strings table (real, Griffin-Lim, TTS: WER, edits, exact strings, MCD) and the WER target."""
    lines = ["## Strings", "",
             "| audio | WER % | S / D / I | strings exactly right % | MCD-DTW dB vs real (frames) | "
             "MCD-DTW dB vs real (audio re-featurised) |",
             "|---|---|---|---|---|---|"]
    names = {"real": "real recording", "griffin_lim": "real → log-mel → Griffin-Lim (vocoder ceiling)",
             "tts": "TTS (synthesised)"}
    frames_mcd = {"real": None, "griffin_lim": None, "tts": mcd["tts_frames"]}    # None: the reference frames
    audio_mcd = {"real": None, "griffin_lim": mcd["griffin_lim_audio"], "tts": mcd["tts_audio"]}
    for key, name in names.items():
        c = counts[key]
        lines.append(f"| {name} | {wer[key]:.2f} | {c.substitutions} / {c.deletions} / {c.insertions} | "
                     f"{accuracy[key]:.1f} | {fmt(frames_mcd[key])} | {fmt(audio_mcd[key])} |")
    met = "met" if wer["tts"] <= WER_TARGET else "not met"
    return lines + ["", "— : the reference itself (the vocoder's input is the real log-mel). For scale: the exact "
                        f"vocoder round trip of the real strings (Griffin-Lim at power 1.0 instead of 1.5, "
                        f"re-featurised) gives MCD-DTW {fmt(mcd['griffin_lim_exact'])} dB.", "",
                    f"Target WER ≤ {WER_TARGET:g} % on the synthesised strings: **{met}** ({wer['tts']:.2f} %).", ""]


def _length_lines(stops, attention) -> list[str]:
    """The stop-length errors and attention measures of the syntheses."""
    return ["## Length and attention of the syntheses", "",
            "| stop-length error mean % | median % | never stopped % | attention monotonic % | "
            "attention coverage % | guided-attention cost / step |",
            "|---|---|---|---|---|---|",
            f"| {100 * stops['mean']:.1f} | {100 * stops['median']:.1f} | {100 * stops['never']:.1f} | "
            f"{fmt(100 * attention['monotonic'], 1)} | {fmt(100 * attention['coverage'], 1)} | "
            f"{fmt(attention['cost'], 3)} |", ""]


def _isolated_lines(args, d, isolated, real_isolated, heard) -> list[str]:
    """The isolated-digits table (TTS recognised, heard as, real clips recognised) and its target."""
    from seq2seq.data.audio.spoken_digits import WORDS

    lines = ["## Isolated digits", "",
             f"Each word synthesised alone {args.repeats} times (torch and Griffin-Lim seeds {args.seed}…"
             f"{args.seed + args.repeats - 1}); the real column is the same recogniser on the speaker's real clips "
             f"of that word (clip indices {d.valid_indices[0]}–{d.valid_indices[1]}).", "",
             "| word | TTS recognised | heard as (TTS) | real clips recognised |", "|---|---|---|---|"]
    for word, correct, texts, (real_ok, real_n) in zip(WORDS, isolated, heard, real_isolated):
        wrong = sorted({t for t in texts if t != word}, key=lambda t: (-texts.count(t), t))
        shown = ", ".join(f"“{_short(t)}” ×{texts.count(t)}" for t in wrong[:3]) or "—"
        shown += f", {len(wrong) - 3} other(s)" if len(wrong) > 3 else ""
        lines.append(f"| {word} | {correct}/{args.repeats} | {shown} | {real_ok}/{real_n} |")
    ok = all(c >= ISOLATED_TARGET * args.repeats / 10 for c in isolated)
    return lines + ["", f"Target every word ≥ {ISOLATED_TARGET} of 10: **{'met' if ok else 'not met'}** "
                        f"({sum(c >= ISOLATED_TARGET * args.repeats / 10 for c in isolated)}/10 words).", ""]


def _how_lines(tts_config) -> list[str]:
    """How each figure is computed, in one paragraph."""
    return ["How: WER = (S + D + I) / reference words over the set. MCD-DTW = (10/ln 10)·√2 · mean over the DTW "
            "path of ‖c − c′‖₂, c = coefficients 1–13 of the orthonormal DCT-II of the log-mel (natural log of "
            "power; on log amplitude the values would halve); 'frames' compares the model's log-mel as written, "
            "'audio' the log-mel of the waveform. Stop-length error = |frames_TTS − frames_real| / frames_real. "
            "Monotonic = share of decoder steps whose argmax input token does not move back; coverage = share of "
            "input tokens that are some step's argmax; guided-attention cost = Σ A·(1 − exp(−(n/N − t/T)²/2g²)) "
            f"per step, g = {tts_config.model.head.guided_width}. See the script's docstring.", ""]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def figure(real: np.ndarray, synthesis, path: Path) -> None:
    """The first string: real log-mel, the TTS log-mel as written, and its attention (steps × tokens)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if synthesis.attention is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.6))
    for ax, mel, title in ((axes[0], real, "real recording"), (axes[1], synthesis.mel, "TTS (as written)")):
        ax.imshow(mel.T, origin="lower", aspect="auto", interpolation="nearest")
        ax.set(title=f"{title}: {len(mel)} frames", xlabel="frame", ylabel="mel band")
    if synthesis.attention is not None:
        axes[2].imshow(synthesis.attention.T, origin="lower", aspect="auto", interpolation="nearest", cmap="Greys")
        axes[2].set(title="attention", xlabel="decoder step", ylabel="input token")
    fig.suptitle(f"“{synthesis.text}”")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _indices(digits, split: str) -> str:
    if digits is None:
        return "from manifests"
    low, high = getattr(digits, f"{split}_indices")
    return f"{low}–{high}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tts_run", help="a text_to_speech run trained on the spoken digits")
    parser.add_argument("asr_run", help="a speech_to_text run trained on real recordings")
    parser.add_argument("--strings", type=int, default=100, help="validation-style strings (default 100)")
    parser.add_argument("--iters", type=int, default=60, help="Griffin-Lim iterations (default 60)")
    parser.add_argument("--repeats", type=int, default=10, help="syntheses of each isolated word (default 10)")
    parser.add_argument("--seed", type=int, default=4321, help="strings, prenet dropout and Griffin-Lim seed")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if min(args.strings, args.iters, args.repeats) < 1:
        parser.error("--strings, --iters and --repeats must be at least 1")
    return args


def import_modules() -> None:
    """Import what the measurement uses before the clock starts: the reported seconds leave the imports out."""
    for module in ("seq2seq.data.audio.wav", "seq2seq.data.audio.speech", "seq2seq.data.audio.spoken_digits", "seq2seq.data.audio.vocoder",
                   "seq2seq.errors", "seq2seq.metrics", "seq2seq.synthesizer", "seq2seq.transcriber"):
        importlib.import_module(module)


def load_runs(args):
    """(Synthesizer, Transcriber) of the two runs; exits when the TTS run has no spoken digits, warns when the ASR
    run trained on clip indices the strings are drawn from."""
    from seq2seq.errors import UserError
    from seq2seq.inference.synthesizer import Synthesizer
    from seq2seq.inference.transcriber import Transcriber

    try:
        voice, recogniser = Synthesizer.load(args.tts_run), Transcriber.load(args.asr_run)
    except UserError as exc:
        raise SystemExit(str(exc)) from None
    digits = voice.config.data.digits
    if digits is None:
        raise SystemExit(f"{args.tts_run} was not trained on the spoken digits (data.digits): no strings to draw")
    asr_digits = recogniser.config.data.digits
    if asr_digits is not None:
        low, high = asr_digits.train_indices
        if not (high < digits.valid_indices[0] or low > digits.valid_indices[1]):
            print(f"warning: the ASR run trained on clip indices {low}–{high}, which overlap the strings' "
                  f"{digits.valid_indices[0]}–{digits.valid_indices[1]}", file=sys.stderr)
    return voice, recogniser


def draw_strings(args, digits, folder: Path, settings):
    """The strings, their real log-mels ((frames, M) each) and their Griffin-Lim resynthesis (samples each)."""
    import torch

    from seq2seq.data.audio.wav import Audio
    from seq2seq.data.audio.speech import features_of
    from seq2seq.data.audio.spoken_digits import generate
    from seq2seq.data.audio.vocoder import mel_to_audio

    strings = generate(folder, args.strings, range(digits.valid_indices[0], digits.valid_indices[1] + 1), args.seed,
                       digits.min_digits, digits.max_digits, tuple(digits.pause_ms), digits.speakers,
                       tuple(digits.edge_ms))
    real_mels = [features_of(Audio(u.samples, u.sample_rate, "+".join(u.clips)), settings).numpy() for u in strings]
    resynth = [mel_to_audio(torch.from_numpy(mel), u.sample_rate, settings, iterations=args.iters, seed=args.seed)
               for mel, u in zip(real_mels, strings)]
    return strings, real_mels, resynth


def recognise(recogniser, strings, resynth, said) -> tuple[dict, dict, dict]:
    """(error counts, WER %, exact-string accuracy %) of the real, Griffin-Lim and TTS audio, by key."""
    from seq2seq.metrics import error_counts, exact_match

    texts = [u.text for u in strings]
    audios = {"real": [(u.samples, u.sample_rate) for u in strings],
              "griffin_lim": [(s, u.sample_rate) for s, u in zip(resynth, strings)],
              "tts": [(s.samples, s.sample_rate) for s in said]}
    heard = {key: transcribe(recogniser, items) for key, items in audios.items()}
    counts = {key: error_counts(hyps, texts) for key, hyps in heard.items()}
    wer = {key: c.rate for key, c in counts.items()}
    accuracy = {key: exact_match(hyps, texts) for key, hyps in heard.items()}
    return counts, wer, accuracy


def distortions(args, strings, real_mels, resynth, said, settings) -> dict[str, float]:
    """Mean MCD-DTW (dB) against the real log-mel: TTS frames, TTS audio, Griffin-Lim audio, exact round trip."""
    import torch

    from seq2seq.data.audio.vocoder import mel_to_audio

    def exact(u, real):             # the real log-mel through Griffin-Lim at power 1.0, re-featurised
        samples = mel_to_audio(torch.from_numpy(real), u.sample_rate, settings, iterations=args.iters, power=1.0,
                               seed=args.seed)
        return log_mel_of(samples, u.sample_rate, settings)

    return {"tts_frames": mean([mcd_dtw(s.mel, real) for s, real in zip(said, real_mels)]),
            "tts_audio": mean([mcd_dtw(log_mel_of(s.samples, s.sample_rate, settings), real)
                               for s, real in zip(said, real_mels)]),
            "griffin_lim_audio": mean([mcd_dtw(log_mel_of(r, u.sample_rate, settings), real)
                                       for r, u, real in zip(resynth, strings, real_mels)]),
            "griffin_lim_exact": mean([mcd_dtw(exact(u, real), real) for u, real in zip(strings, real_mels)])}


def stop_lengths(said, real_mels) -> dict[str, float]:
    """Stop-length error |frames_TTS − frames_real| / frames_real: mean, median; share never stopped."""
    errors = [abs(len(s.mel) - len(real)) / len(real) for s, real in zip(said, real_mels)]
    return {"mean": mean(errors), "median": statistics.median(errors),
            "never": sum(not s.stopped for s in said) / len(said)}


def attention_summary(said, g: float) -> dict[str, float]:
    """Means over the syntheses with an attention map: monotonic share, coverage, guided-attention cost / step."""
    maps = [attention_measures(s.attention, g) for s in said if s.attention is not None]
    return {name: mean([m[k] for m in maps]) if maps else math.nan
            for k, name in enumerate(("monotonic", "coverage", "cost"))}


def write(text: str, real_mel: np.ndarray, synthesis) -> None:
    """The markdown and the figure into experiments/results, and the markdown on stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tts_intelligibility.md").write_text(text)
    figure(real_mel, synthesis, RESULTS / "tts_intelligibility.png")
    print(text)
    print(f"written {(RESULTS / 'tts_intelligibility.md').relative_to(ROOT)}", file=sys.stderr)


def main() -> None:
    args = parse_args()
    import torch

    from seq2seq.data.audio.speech import feature_settings

    torch.set_num_threads(args.threads)
    import_modules()
    started = time.perf_counter()
    voice, recogniser = load_runs(args)
    config, digits = voice.config, voice.config.data.digits
    settings = feature_settings(config.data)
    folder = recordings_folder(digits)
    strings, real_mels, resynth = draw_strings(args, digits, folder, settings)
    print(f"{len(strings)} strings drawn and resynthesised ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    torch.manual_seed(args.seed)                        # the prenet's dropout is on at inference
    said = voice.synthesize([u.text for u in strings], iterations=args.iters, seed=args.seed)
    print(f"synthesised ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    counts, wer, accuracy = recognise(recogniser, strings, resynth, said)
    print(f"transcribed ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    mcd = distortions(args, strings, real_mels, resynth, said, settings)
    stops, attention = stop_lengths(said, real_mels), attention_summary(said, config.model.head.guided_width)
    print(f"measured ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    isolated, heard_isolated = isolated_tts(voice, recogniser, args.repeats, args.iters, args.seed)
    real_isolated = isolated_real(folder, digits, recogniser)
    text = report(args, config, recogniser.config, strings, wer, counts, accuracy, mcd, stops, attention, isolated,
                  real_isolated, heard_isolated, time.perf_counter() - started)
    write(text, real_mels[0], said[0])


if __name__ == "__main__":
    main()
