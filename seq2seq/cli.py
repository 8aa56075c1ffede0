"""Command line: argument parsing only; the work is done by the modules it calls.

User errors (`UserError`) print one line on stderr and exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Optional

from .errors import InputWarning, UserError

EPILOG_TRAIN = """examples:
  seq2seq train configs/multi30k_de_en.yaml
  seq2seq train configs/multi30k_de_en.yaml --set model.decoder.attention=bahdanau --run-dir runs/bahdanau
  seq2seq train --resume --run-dir runs/multi30k_de_en --set train.epochs=20
every config field, its default and what it allows: seq2seq config"""
DEVICE_HELP = "auto (default: a CUDA GPU when PyTorch sees one), cpu, cuda, cuda:N or mps"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seq2seq", description="Recurrent sequence-to-sequence models with attention: "
                                "train, translate, evaluate.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"seq2seq {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    _add_train(sub)
    _add_translate(sub)
    _add_export(sub)
    _add_transcribe(sub)
    _add_synthesize(sub)
    _add_attention(sub)
    _add_report(sub)
    _add_evaluate(sub)
    _add_demo(sub)
    _add_average(sub)
    _add_serve(sub)
    _add_runs(sub)
    _add_vocab(sub)
    _add_chat(sub)
    sub.add_parser("config", help="list every config field with its default and description")
    return p


def _add_train(sub) -> None:
    t = sub.add_parser("train", help="train a model from a YAML config", epilog=EPILOG_TRAIN,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Train a model. The run directory receives the resolved config, the tokenizer, "
                                   "best/last weights, the training state and metrics.jsonl.")
    t.add_argument("config", nargs="?", help="YAML config file (optional with --resume: the run's own config)")
    t.add_argument("--run-dir", help="where the run is written (default: runs/<config name>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set train.lr=5e-4 (repeatable)")
    t.add_argument("--quiet", action="store_true", help="no progress output")


def _add_translate(sub) -> None:
    tr = sub.add_parser("translate", help="translate lines from stdin or a file, one output line per input line",
                        description="Greedy or beam search. Writes exactly one detokenized line per input line, in order; "
                                    "an empty input line gives an empty output line.")
    tr.add_argument("run_dir", nargs="+", metavar="RUN_DIR",
                    help="a run directory written by `seq2seq train` or `seq2seq demo`; several: an ensemble "
                         "(log-probabilities averaged per step; the runs must share their tokenizers)")
    tr.add_argument("--input", "-i", help="input file (default: stdin)")
    tr.add_argument("--output", "-o", help="output file (default: stdout)")
    tr.add_argument("--n-best", type=int, default=1, metavar="N",
                    help="up to N hypotheses per input line, best first, in the Moses n-best format "
                         "`LINE ||| TEXT ||| SCORE` (LINE counts from 0; SCORE: log-probability); the beam is widened "
                         "to N if narrower")
    tr.add_argument("--jsonl", action="store_true",
                    help="one JSON object per input line: {\"n_best\": [{\"text\", \"score\", \"tokens\"}]}")
    tr.add_argument("--alignments", metavar="FILE",
                    help="also write, per input line, a JSON object with the source and target tokens, the attention "
                         "matrix of the best hypothesis and its hard (argmax) alignment (format: README)")
    tr.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch",
                    help="onnxruntime: decode the run's ONNX export (written to a temporary folder first) with the "
                         "same search; an export directory (`seq2seq export`) always decodes on onnxruntime")
    _decode_options(tr)


def _add_export(sub) -> None:
    ex = sub.add_parser("export", help="write a translation run as ONNX graphs (encoder, one decoder step) + manifest",
                        description="Writes DIR/encoder.onnx, DIR/decoder_step.onnx, the tokenizers, the run's "
                                    "config and DIR/manifest.json (docs/export.md). `seq2seq translate DIR` decodes "
                                    "it on onnxruntime. Needs the [onnx] extra.")
    ex.add_argument("run_dir", metavar="RUN_DIR", help="a translation run directory")
    ex.add_argument("-o", "--output", required=True, metavar="DIR", help="the export directory (created)")
    ex.add_argument("--checkpoint", default="best", help="best (default), last, or a .safetensors path")
    ex.add_argument("--exporter", choices=["torchscript", "dynamo"], default="torchscript",
                    help="torch.onnx's TorchScript-based exporter (default: fast, exact for every decoder family) "
                         "or the torch.export-based one (dynamo=True); either is checked against PyTorch")


def _add_chat(sub) -> None:
    c = sub.add_parser("chat", help="talk to a text→text run (question answering, dialogue): one reply per line",
                       description="In a terminal: a prompt with line editing and history; :attention shows the last "
                                   "reply's attention (:attention FILE.png writes it), :help, Ctrl-D leaves. With "
                                   "stdin not a terminal: one reply line per input line.")
    c.add_argument("run_dir", nargs="+", metavar="RUN_DIR", help="a text→text run directory (several: an ensemble)")
    c.add_argument("--n-best", type=int, default=1, metavar="N",
                   help="in a terminal, show the N best replies with their scores (piped: the best only)")
    _decode_options(c)


def _add_transcribe(sub) -> None:
    tr = sub.add_parser("transcribe", help="transcribe WAV files with a speech_to_text run, one line per file",
                        description="Greedy or beam search over each file's log-mel frames (computed at the file's "
                                    "own sample rate, normalised as in training). Writes exactly one line per input "
                                    "file, in order; a file that cannot be read gets an empty line, its error on "
                                    "stderr, and the exit status is 1.")
    tr.add_argument("run_dir", metavar="RUN_DIR", help="a speech_to_text run directory")
    tr.add_argument("audio", nargs="*", metavar="WAV", help="audio files (16-bit PCM WAV; also 8/24/32-bit, float)")
    tr.add_argument("--input", "-i", help="a text file listing audio files, one path per line (relative to the "
                                          "current folder)")
    tr.add_argument("--output", "-o", help="output file (default: stdout)")
    tr.add_argument("--jsonl", action="store_true",
                    help="one JSON object per file: {\"file\", \"text\", \"score\", \"tokens\"}")
    _decode_options(tr)


def _add_synthesize(sub) -> None:
    sy = sub.add_parser("synthesize", help="speak texts with a text_to_speech run: one WAV file per text",
                        description="Frames from the model until its stop flag, then Griffin-Lim to a 16-bit WAV at "
                                    "the training clips' sample rate. One text: -o FILE; several (arguments or "
                                    "--input, one per line): --output-dir DIR gets 0001.wav, 0002.wav, ... by line "
                                    "number. Existing files are not overwritten without --force.")
    sy.add_argument("run_dir", metavar="RUN_DIR", help="a text_to_speech run directory")
    sy.add_argument("text", nargs="*", help="texts to speak (or --input)")
    sy.add_argument("--input", "-i", help="a file of texts, one per line")
    sy.add_argument("--output", "-o", help="the WAV file (one text)")
    sy.add_argument("--output-dir", help="folder for several texts: 0001.wav, 0002.wav, ...")
    sy.add_argument("--griffin-lim-iters", type=int, default=60, metavar="N", help="phase iterations (default 60)")
    sy.add_argument("--mel", action="store_true", help="also write the log-mel frames as .npy beside each WAV")
    sy.add_argument("--force", action="store_true", help="overwrite existing files")
    sy.add_argument("--checkpoint", default="best", help="best (default), last, or a .safetensors path")
    sy.add_argument("--device", default="auto", help=DEVICE_HELP)
    sy.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all cores)")


def _add_attention(sub) -> None:
    at = sub.add_parser("attention", help="plot the attention of translations as heatmaps (PNG/SVG)",
                        description="Translate each sentence and write one heatmap per sentence: source pieces "
                                    "along x, generated pieces along y, attention weights as colour (with --beam-size "
                                    "K, the best hypothesis). Also writes the matrix as JSON beside each image.")
    at.add_argument("run_dir", metavar="RUN_DIR")
    at.add_argument("text", nargs="*",
                    help="sentences to translate, or WAV files for a speech_to_text run (or --input)")
    at.add_argument("--input", "-i", help="read sentences from this file, one per line")
    at.add_argument("--limit", type=int, help="only the first N lines of --input")
    at.add_argument("--format", nargs="+", choices=["png", "svg"], default=["png"], help="image format(s)")
    at.add_argument("--output-dir", "-o", help="where to write (default: RUN_DIR/attention)")
    _decode_options(at)


def _add_report(sub) -> None:
    rp = sub.add_parser("report", help="write a self-contained HTML report of a run (curves, samples, attention)",
                        description="One HTML file with everything inlined: training curves from metrics.jsonl, the "
                                    "first validation sentences translated by the best checkpoint, and the attention "
                                    "heatmaps written during training. Opens in a browser with no server.")
    rp.add_argument("run_dir", metavar="RUN_DIR")
    rp.add_argument("-o", "--output", help="the HTML file (default: RUN_DIR/report.html)")
    rp.add_argument("--samples", type=int, default=10, help="validation sentences to translate (default 10)")
    rp.add_argument("--device", default="auto", help=DEVICE_HELP)


def _add_evaluate(sub) -> None:
    ev = sub.add_parser("evaluate", help="translate a test set and print sacreBLEU BLEU and chrF",
                        description="Translate a test set and score it with sacreBLEU (BLEU and chrF, default 13a "
                                    "tokenization, cased, on detokenized text). The test set: the run's own "
                                    "data.test by default, --test CORPUS, or --src/--ref files.")
    ev.add_argument("run_dir", nargs="+", metavar="RUN_DIR", help="one run directory, or several (an ensemble)")
    ev.add_argument("--test", metavar="CORPUS", help="a .tsv file (source<TAB>reference), or a PREFIX read as "
                                                     "PREFIX.<src_lang> + PREFIX.<tgt_lang> of the run")
    ev.add_argument("--src", help="source file, one segment per line (a .tsv alone: both sides)")
    ev.add_argument("--ref", help="reference file, aligned with --src")
    ev.add_argument("--manifest", help="speech_to_text runs: a .tsv of path<TAB>transcript (paths relative to it) "
                                       "or an LJSpeech metadata.csv; prints WER and CER with their edit counts")
    ev.add_argument("--output", "-o", help="also write the translations here")
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _decode_options(ev)


def _add_demo(sub) -> None:
    d = sub.add_parser("demo", help="train a built-in job and show results: dates (default) or speech",
                       description="The built-in default: human-written dates ('Thursday, 25th of June 2009', "
                                   "'06/25/09', ...) to ISO 2009-06-25. Generated in-process from a seed, trained on "
                                   "the CPU in a few minutes. `demo speech`: connected spoken digits → words from "
                                   "FSDD clips, a Listen-Attend-Spell recogniser, WER on new strings.")
    d.add_argument("job", nargs="?", choices=["dates", "speech"], default="dates",
                   help="dates (default): normalise written dates; speech: recognise spoken digit strings (FSDD "
                        "clips from the shared data, or --data)")
    d.add_argument("--data", metavar="DIR", help="speech: the FSDD recordings folder ({digit}_{speaker}_{index}.wav)")
    d.add_argument("--run-dir", help="where the run is written (default runs/demo or runs/demo-speech; replaced if "
                                     "it is a demo run)")
    d.add_argument("--seed", type=int, default=1, help="training seed")
    d.add_argument("--quiet", action="store_true")


def _add_average(sub) -> None:
    a = sub.add_parser("average", help="average the weights of a run's last or best N validation snapshots",
                       description="Checkpoint averaging: writes a new run directory whose weights are the mean of "
                                   "N snapshots kept in RUN_DIR/checkpoints/ (see train.keep_checkpoints).")
    a.add_argument("run_dir")
    which = a.add_mutually_exclusive_group(required=True)
    which.add_argument("--last", type=int, metavar="N", help="the N most recent snapshots")
    which.add_argument("--best", type=int, metavar="N", help="the N snapshots with the best validation metric")
    a.add_argument("-o", "--output", required=True, help="new run directory")


def _add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="serve a run over HTTP: JSON API with dynamic batching, attention web page",
                        description="Start a FastAPI/uvicorn server: POST /translate (POST /transcribe with a WAV "
                                    "body for a speech_to_text run, POST /synthesize for a text_to_speech run), GET /health, GET /info, "
                                    "OpenAPI docs at /docs, and the attention web page at /. Concurrent requests "
                                    "are merged into batches.")
    sv.add_argument("run_dir", nargs="+", metavar="RUN_DIR", help="a run directory (several: an ensemble)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument("--workers", type=int, default=1, help="server processes, each with its own model (default 1)")
    sv.add_argument("--no-batching", dest="batching", action="store_false", help="decode each request on its own")
    from .config import ServeSettings

    for name, field in ServeSettings.model_fields.items():
        if name != "batching":
            default = f"{field.default:,}" if isinstance(field.default, int) else f"{field.default:g}"
            sv.add_argument(_serve_flag(name), dest=name, type=type(field.default), default=field.default,
                            metavar="S" if name == "timeout_s" else "N", help=f"{field.description} (default {default})")
    sv.add_argument("--device", default="auto", help=DEVICE_HELP)
    sv.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all cores)")
    sv.add_argument("--quiet", action="store_true", help="no 'serving on' line and no request log on stderr")


def _add_runs(sub) -> None:
    r = sub.add_parser("runs", help="list the runs under folders and compare their best validation",
                       description="One row per run directory found under DIR (default runs/): its task, decoder, "
                                   "the best value of its validation metric and the update that reached it, updates "
                                   "done, state (finished, interrupted, unfinished: still training or killed; "
                                   "unreadable: the error follows on stderr) and the time since metrics.jsonl last "
                                   "changed.")
    r.add_argument("dirs", nargs="*", default=["runs"], metavar="DIR",
                   help="folders searched for run directories, or run directories (default: runs)")
    r.add_argument("--sort", choices=["name", "age", "metric"],
                   help="metric: best first; age: newest first (default: metric when every run has the same "
                        "validation metric, else age)")
    r.add_argument("--json", action="store_true", help="print a JSON list, one object per run")


def _add_vocab(sub) -> None:
    v = sub.add_parser("vocab", help="list a run's vocabulary, or show the pieces a sentence is cut into",
                       description="Without --segment: each text side's vocabulary, its size, then one `ID  PIECE` "
                                   "line per entry (special symbols marked). With --segment TEXT: the pieces and ids "
                                   "the model sees for TEXT on each text side; pieces that are <unk> are marked ! and "
                                   "the symbols the vocabulary lacks are listed. A joint vocabulary is shown once; "
                                   "pieces holding spaces or invisible characters are shown as JSON strings.")
    v.add_argument("run_dir", metavar="RUN_DIR")
    v.add_argument("--side", choices=["src", "tgt"], help="only this side (default: every text side of the run)")
    v.add_argument("--limit", type=int, metavar="N", help="list only the first N entries")
    v.add_argument("--segment", action="append", metavar="TEXT", help="segment TEXT instead (repeatable)")


def _decode_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="best", help="best (default), last, or a .safetensors path")
    p.add_argument("--batch-size", type=int, help="sentences per batch (default: the run's decode.batch_size)")
    p.add_argument("--beam-size", type=int, help="beam width; 1 = greedy (default: the run's decode.beam_size)")
    p.add_argument("--alpha", type=float, help="length normalisation for beam search (GNMT alpha; 0 = off)")
    p.add_argument("--beta", type=float, help="coverage penalty for beam search (GNMT beta; 0 = off)")
    p.add_argument("--max-len-ratio", type=float, dest="max_len_a", metavar="A",
                   help="output limit A * source length + decode.max_len_b (default: the run's decode.max_len_a)")
    p.add_argument("--max-len", type=int, help="absolute output limit in tokens, EOS included")
    p.add_argument("--min-len", type=int, help="forbid EOS before this many output tokens")
    p.add_argument("--no-repeat-ngram", type=int, metavar="N", help="never repeat an N-gram within one output")
    p.add_argument("--no-greedy-fallback", dest="greedy_fallback", action="store_false", default=None,
                   help="beam search without also following the greedy path (a little faster; the best hypothesis "
                        "may then score below greedy's)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all cores)")
    p.add_argument("--precision", choices=["fp32", "bf16"],
                   help="bf16: matrix products in bfloat16, scores in fp32 (faster on CPUs with AVX-512 BF16; "
                        "default: the run's decode.precision)")


def _warn(message: str) -> None:
    print(f"seq2seq: warning: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, InputWarning):
        _warn(str(message))
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


def _default_showwarning(message, category, filename, lineno, file=None, line=None) -> None:
    print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")

# Characters that end a line for some reader (str.splitlines, editors): an output segment never contains one, so
# every input line gives exactly one output line whoever reads the file.
_LINE_BREAKS = str.maketrans({c: " " for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def cmd_train(args: argparse.Namespace) -> int:
    from .config import RUN_CONFIG, load_config       # neither loads torch: the spin-wait is chosen first
    from .threads import long_openmp_spin_for_training

    if args.config is None and not (args.resume and args.run_dir):
        raise UserError("train needs a CONFIG file (or --resume --run-dir DIR to continue a run)")
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / Path(args.config).stem
    source = Path(args.config) if args.config else run_dir / RUN_CONFIG
    if args.resume and not run_dir.is_dir():
        raise UserError(f"cannot resume: run directory not found: {run_dir}")
    config = load_config(source, args.overrides)
    if config.train.share_cores:
        long_openmp_spin_for_training()     # before torch loads: see seq2seq/threads.py
    from .train import train

    result = train(config, run_dir, resume=args.resume, verbose=not args.quiet)
    return 130 if result.interrupted else 0      # 130: the shell's code for a Ctrl-C


def _translate_lines(args: argparse.Namespace, lines: list[str], n_best: int = 1, attention: bool = False):
    from .api import Translator

    search = _search_flags(args, n_best)           # before loading the model
    if args.threads:
        torch_threads(args.threads)
    if _on_onnxruntime(args):
        translator = _onnx_translator(args, search)
    else:
        translator = Translator.load(args.run_dir, which=args.checkpoint, device=args.device)
    # attention is off unless an output shows it: less bookkeeping
    return translator.translate_n_best(lines, n_best, batch_size=args.batch_size, warn=_warn, attention=attention,
                                       **search)


def _on_onnxruntime(args: argparse.Namespace) -> bool:
    from .export import is_export

    return getattr(args, "runtime", "torch") == "onnxruntime" or any(is_export(d) for d in args.run_dir)


def _onnx_translator(args: argparse.Namespace, search: dict):
    """An export directory on onnxruntime, or a run exported to a temporary folder first (removed once loaded:
    the sessions hold the graphs)."""
    import tempfile

    from .export import export_run, is_export
    from .onnx_runtime import onnx_translator

    if len(args.run_dir) > 1:
        raise UserError("onnxruntime decodes one model: give one run or export directory (no ensembles)")
    if search.get("precision") == "bf16":
        raise UserError("--precision bf16: onnxruntime's CPU provider has no bf16 arithmetic; exports are fp32")
    if args.device not in ("auto", "cpu"):
        raise UserError(f"--device {args.device}: onnxruntime decodes on the CPU here")
    path = Path(args.run_dir[0])
    if is_export(path):
        if args.checkpoint != "best":
            raise UserError(f"--checkpoint applies to run directories; {path} is an export (one set of weights)")
        return onnx_translator(path, args.threads)
    with tempfile.TemporaryDirectory(prefix="seq2seq-export-") as folder:
        return onnx_translator(export_run(path, Path(folder) / "export", which=args.checkpoint), args.threads)


# decode fields → the flags that set them, for error messages
_DECODE_FLAGS = {"batch_size": "--batch-size", "beam_size": "--beam-size", "n_best": "--n-best", "alpha": "--alpha",
                 "beta": "--beta", "max_len_a": "--max-len-ratio", "max_len": "--max-len", "min_len": "--min-len",
                 "no_repeat_ngram": "--no-repeat-ngram"}


def _check_decode_flags(values: dict) -> None:
    """Validate decoding flags with the config's own rules (`DecodeConfig`, `SearchOptions`); errors name the flag."""
    from pydantic import ValidationError

    from .config import DecodeConfig
    from .search import SearchOptions, describe_invalid

    given = {k: v for k, v in values.items() if v is not None}
    try:
        DecodeConfig(**{k: v for k, v in given.items() if k in DecodeConfig.model_fields})
        n_best = given.get("n_best", 1)
        SearchOptions(n_best=n_best, beam_size=max(n_best, given.get("beam_size", 1)))   # the beam widens to n_best
    except ValidationError as exc:
        raise UserError(describe_invalid(exc, _DECODE_FLAGS)) from None


def _write_lines(path: Optional[str], lines: list[str]) -> None:
    text = "".join(line.translate(_LINE_BREAKS) + "\n" for line in lines)
    if path:
        Path(path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def cmd_translate(args: argparse.Namespace) -> int:
    from .data.text import read_input

    results = _translate_lines(args, read_input(args.input), args.n_best, attention=bool(args.alignments))
    if args.alignments:
        _write_lines(args.alignments, [json.dumps(alignment_record(hyps[0]), ensure_ascii=False)
                                       for hyps in results])
    if args.jsonl:
        lines = [json.dumps({"n_best": [{"text": r.text, "score": round(r.score, 6), "tokens": r.tokens}
                                        for r in hyps]}, ensure_ascii=False) for hyps in results]
    elif args.n_best > 1:
        lines = [f"{number} ||| {r.text.translate(_LINE_BREAKS)} ||| {r.score:.4f}"
                 for number, hyps in enumerate(results) for r in hyps]
    else:
        lines = [hyps[0].text for hyps in results]
    _write_lines(args.output, lines)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_run

    print(export_run(args.run_dir, args.output, which=args.checkpoint, exporter=args.exporter))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .api import Translator
    from .chat import Chat, run_chat

    search = _search_flags(args, args.n_best)
    if args.threads:
        torch_threads(args.threads)
    translator = Translator.load(args.run_dir, which=args.checkpoint, device=args.device)
    n_best = args.n_best if sys.stdin.isatty() else 1
    return run_chat(Chat(translator, n_best, sys.stdout, batch_size=args.batch_size, **search))


def cmd_transcribe(args: argparse.Namespace) -> int:
    from .data.text import read_input
    from .transcriber import Transcriber

    if bool(args.audio) == bool(args.input):
        raise UserError("give the audio files as arguments or with --input LIST (one of the two)")
    files = list(args.audio) if args.audio else [line.strip() for line in read_input(args.input)]
    search = _search_flags(args)
    if args.threads:
        torch_threads(args.threads)
    transcriber = Transcriber.load(args.run_dir, which=args.checkpoint, device=args.device)
    frames, failed = {}, 0
    for number, name in enumerate(files):
        try:
            frames[number] = transcriber.features(name) if name else None
        except UserError as exc:
            print(f"seq2seq: error: {exc}", file=sys.stderr)
            failed += 1
    readable = [n for n, f in frames.items() if f is not None]
    done = dict(zip(readable, transcriber.transcribe_features([frames[n] for n in readable],
                                                              [files[n] for n in readable],
                                                              batch_size=args.batch_size, **search)))
    _write_lines(args.output, [_transcript_line(files[n], done.get(n), args.jsonl) for n in range(len(files))])
    return 1 if failed else 0


def _transcript_line(name: str, t, jsonl: bool) -> str:
    if not jsonl:
        return t.text if t is not None else ""
    record = {"file": name, "text": t.text, "score": round(t.score, 6), "tokens": t.tokens} if t is not None else \
        {"file": name, "text": "", "score": None, "tokens": [], "error": True}
    return json.dumps(record, ensure_ascii=False)


def _search_flags(args: argparse.Namespace, n_best: int = 1) -> dict:
    """The decoding flags given, validated (before any model is loaded), as keyword arguments of search."""
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads {args.threads}: must be >= 1")
    search = dict(beam_size=args.beam_size, alpha=args.alpha, beta=args.beta, max_len_a=args.max_len_a,
                  max_len=args.max_len, min_len=args.min_len, no_repeat_ngram=args.no_repeat_ngram,
                  greedy_fallback=args.greedy_fallback, precision=args.precision)
    _check_decode_flags({**search, "n_best": n_best, "batch_size": args.batch_size})
    return {k: v for k, v in search.items() if v is not None}


def torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def cmd_synthesize(args: argparse.Namespace) -> int:
    from .data.audio import write_wav
    from .data.text import read_input
    from .synthesizer import Synthesizer

    if bool(args.text) == bool(args.input):
        raise UserError("give the texts as arguments or with --input FILE (one of the two)")
    texts = list(args.text) if args.text else read_input(args.input)
    paths = _synthesis_paths(args, len(texts))
    if args.griffin_lim_iters < 1:
        raise UserError(f"--griffin-lim-iters {args.griffin_lim_iters}: must be >= 1")
    if args.threads:
        torch_threads(args.threads)
    voice = Synthesizer.load(args.run_dir, which=args.checkpoint, device=args.device)
    for path, result in zip(paths, voice.synthesize(texts, iterations=args.griffin_lim_iters)):
        write_wav(path, result.samples, result.sample_rate)
        if args.mel:
            _write_npy(path.with_suffix(".npy"), result.mel)
        if not result.stopped:
            _warn(f"{path}: the model never raised its stop flag; cut at model.head.max_steps")
        print(path)
    return 0


def _synthesis_paths(args: argparse.Namespace, count: int) -> list[Path]:
    """Where each text's WAV goes, refusing to overwrite without --force (checked before any work)."""
    if count == 1 and args.output and not args.output_dir:
        paths = [Path(args.output)]
    elif args.output_dir and not args.output:
        paths = [Path(args.output_dir) / f"{n:04d}.wav" for n in range(1, count + 1)]
    else:
        raise UserError("one text: --output FILE.wav; several: --output-dir DIR")
    existing = [p for p in paths if p.exists()] if not args.force else []
    if existing:
        raise UserError(f"{existing[0]} exists ({len(existing)} of the outputs do): use --force to overwrite")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    return paths


def _write_npy(path: Path, array) -> None:
    import io

    import numpy as np

    from .files import write_atomic

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    write_atomic(path, buffer.getvalue())


def cmd_attention(args: argparse.Namespace) -> int:
    from .checkpoint import read_config
    from .data.text import read_input
    from .plot import save_heatmap

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: must be >= 1")
    if bool(args.text) == bool(args.input):
        raise UserError("give the sentences as arguments or with --input FILE (one of the two)")
    lines = list(args.text) if args.text else read_input(args.input)[: args.limit]
    out_dir = Path(args.output_dir) if args.output_dir else Path(args.run_dir) / "attention"
    task = read_config(Path(args.run_dir)).task
    if task == "speech_to_text":
        return _speech_attention(args, lines, out_dir)
    if task == "text_to_speech":
        return _synthesis_attention(args, lines, out_dir)
    results = _translate_lines(args, lines, attention=True)
    for number, hyps in enumerate(results, start=1):
        t = hyps[0]
        if t.attention is None:
            raise UserError(f"{args.run_dir} has a vanilla decoder: there is no attention to plot")
        if not t.tokens:
            print(f"line {number}: empty input, no heatmap", file=sys.stderr)
            continue
        for path in save_heatmap(out_dir / f"attention-{number:03d}", t.src_tokens, t.tokens, t.attention,
                                 args.format, title=t.text):
            print(path)
    return 0


def _speech_attention(args: argparse.Namespace, files: list[str], out_dir: Path) -> int:
    """Per WAV file: its log-mel spectrogram above the attention of every output token, on one time axis."""
    from .plot import save_speech_alignment
    from .transcriber import Transcriber

    search = _search_flags(args)
    recogniser = Transcriber.load(args.run_dir, which=args.checkpoint, device=args.device)
    hop_ms = recogniser.config.data.features.hop_ms
    for number, name in enumerate(files, start=1):
        spectrogram = recogniser.log_mel(name)
        [t] = recogniser.transcribe_features([recogniser.vocab.normalise(spectrogram)], [name], **search)
        if t.attention is None:
            raise UserError(f"{args.run_dir} has a vanilla decoder: there is no attention to plot")
        for path in save_speech_alignment(out_dir / f"attention-{number:03d}", spectrogram.numpy(), t.tokens,
                                          t.attention, t.reduction, hop_ms, args.format, title=f"{name}: {t.text}"):
            print(path)
    return 0


def _synthesis_attention(args: argparse.Namespace, texts: list[str], out_dir: Path) -> int:
    """Per text: the generated spectrogram above each input token's attention over the decoder steps."""
    from .plot import save_speech_alignment
    from .synthesizer import Synthesizer

    voice = Synthesizer.load(args.run_dir, which=args.checkpoint, device=args.device)
    hop_ms, r = voice.config.data.features.hop_ms, voice.config.model.head.reduction
    for number, result in enumerate(voice.synthesize(texts, iterations=1), start=1):
        if result.attention is None:
            raise UserError(f"{args.run_dir} has a vanilla decoder: there is no attention to plot")
        for path in save_speech_alignment(out_dir / f"attention-{number:03d}", result.mel, result.tokens,
                                          result.attention.T, r, hop_ms, args.format, title=result.text,
                                          rows="input"):
            print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    if args.samples < 0:
        raise UserError(f"--samples {args.samples}: must be >= 0")
    output = Path(args.output) if args.output else Path(args.run_dir) / "report.html"
    print(build_report(args.run_dir, output, samples=args.samples, device=args.device))
    return 0


def alignment_record(t) -> dict:
    """One `--alignments` line: tokens, attention rows (one per target token, EOS included; each sums to 1 over the
    source tokens) and the hard alignment, target position → argmax source position. Null for vanilla."""
    record = {"src_tokens": t.src_tokens, "tgt_tokens": t.tokens, "translation": t.text,
              "attention": None, "alignment": None}
    if t.attention is not None:
        record["attention"] = [[round(float(w), 6) for w in row] for row in t.attention]
        record["alignment"] = [int(row.argmax()) for row in t.attention] if t.attention.size else []
    return record


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .checkpoint import read_config
    from .evaluation import evaluation_corpus
    from .metrics import score

    if read_config(Path(args.run_dir[0])).task == "speech_to_text":
        return _evaluate_speech(args)
    if args.manifest:
        raise UserError("--manifest is for speech_to_text runs; a translation run takes --test or --src/--ref")
    corpus = evaluation_corpus(Path(args.run_dir[0]), args.test, args.src, args.ref)
    src, ref = corpus.src, corpus.tgt
    hyps = [n[0].text for n in _translate_lines(args, src)]
    if args.output:
        _write_lines(args.output, hyps)
    s = score(hyps, ref)
    if args.json:
        print(json.dumps({"run_dir": args.run_dir if len(args.run_dir) > 1 else args.run_dir[0],
                          "checkpoint": args.checkpoint, "test": corpus.origin, **s.as_dict()}))
    else:
        print(f"{corpus.origin}: {len(src):,} segments")
        print(f"BLEU = {s.bleu:.2f}   {s.bleu_signature}")
        print(f"       {s.bleu_detail}")
        print(f"chrF = {s.chrf:.2f}   {s.chrf_signature}")
        print(f"exact match = {s.exact_match:.2f}% of {s.sentences} sentences")
    return 0


def _evaluate_speech(args: argparse.Namespace) -> int:
    """WER and CER (jiwer's alignment) of a speech_to_text run, with substitutions, deletions, insertions."""
    from .evaluation import speech_test_set
    from .metrics import error_counts
    from .transcriber import Transcriber

    if len(args.run_dir) > 1 or args.test or args.src or args.ref:
        raise UserError("a speech_to_text run is evaluated alone, on --manifest FILE (or its own test set)")
    search = _search_flags(args)
    test = speech_test_set(Path(args.run_dir[0]), args.manifest)
    recogniser = Transcriber.load(args.run_dir[0], which=args.checkpoint, device=args.device)
    hyps = [t.text for t in recogniser.transcribe(test.audio, batch_size=args.batch_size, **search)]
    if args.output:
        _write_lines(args.output, hyps)
    counts = {unit: error_counts(hyps, test.references, unit) for unit in ("word", "char")}
    if args.json:
        print(json.dumps({"run_dir": args.run_dir[0], "checkpoint": args.checkpoint, "test": test.origin,
                          "clips": len(hyps), "wer": counts["word"].rate, "cer": counts["char"].rate,
                          **{f"{unit}_{k}": v for unit, c in counts.items() for k, v in vars(c).items()}}))
        return 0
    print(f"{test.origin}: {len(hyps):,} clips")
    for name, unit in (("WER", "word"), ("CER", "char")):
        c = counts[unit]
        print(f"{name} = {c.rate:.2f}%   ({c.substitutions:,} substitutions, {c.deletions:,} deletions, "
              f"{c.insertions:,} insertions in {c.reference_length:,} reference {unit}s)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.job == "speech":
        from .demo_speech import run_speech_demo

        run_speech_demo(Path(args.run_dir or "runs/demo-speech"), args.data, seed=args.seed, verbose=not args.quiet)
        return 0
    from .demo import run_demo

    if args.data:
        raise UserError("--data is for `seq2seq demo speech`; the dates demo generates its data")
    run_demo(Path(args.run_dir or "runs/demo"), seed=args.seed, verbose=not args.quiet)
    return 0


def cmd_average(args: argparse.Namespace) -> int:
    from .average import average_run

    paths = average_run(args.run_dir, args.output, last=args.last, best=args.best)
    print(f"averaged {len(paths)} snapshots ({', '.join(p.stem for p in paths)}) into {args.output}")
    return 0


def _serve_flag(name: str) -> str:
    return "--timeout" if name == "timeout_s" else f"--{name.replace('_', '-')}"


def cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .config import ServeSettings
    from .serve import serve

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: must be between 1 and 65535")
    for flag, value in (("--workers", args.workers), ("--threads", args.threads)):
        if value is not None and value < 1:
            raise UserError(f"{flag} {value}: must be >= 1")
    try:
        settings = ServeSettings(**{name: getattr(args, name) for name in ServeSettings.model_fields})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"{_serve_flag(str(err['loc'][0]))} {err['input']}: {err['msg']}") from None
    serve(args.run_dir, args.host, args.port, args.workers, settings, args.device, args.threads, quiet=args.quiet)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from .runs import list_runs, render_table

    runs = list_runs([Path(d) for d in args.dirs], args.sort)
    if args.json:
        print(json.dumps([r.as_dict() for r in runs], indent=1))
    elif not runs:
        print(f"no run directories under {', '.join(args.dirs)}")
    else:
        print(render_table(runs))
    for r in runs:
        if r.error:
            _warn(r.error)
    return 0


def cmd_vocab(args: argparse.Namespace) -> int:
    from .vocabulary import describe_segmentation, describe_vocab, text_sides

    if args.segment and args.limit is not None:
        raise UserError("--limit applies to the vocabulary listing, not to --segment")
    sides = text_sides(Path(args.run_dir), args.side)
    blocks = ([describe_segmentation(sides, text) for text in args.segment] if args.segment
              else [describe_vocab(side, args.limit) for side in sides])
    print("\n\n".join(blocks))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from .config import describe_fields

    print(describe_fields())
    return 0


COMMANDS = {"train": cmd_train, "translate": cmd_translate, "export": cmd_export, "transcribe": cmd_transcribe,
            "synthesize": cmd_synthesize, "evaluate": cmd_evaluate,
            "demo": cmd_demo, "average": cmd_average, "config": cmd_config, "attention": cmd_attention,
            "report": cmd_report, "serve": cmd_serve, "runs": cmd_runs, "vocab": cmd_vocab, "chat": cmd_chat}


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():        # restored on return: main() may be called in-process (tests, notebooks)
        warnings.showwarning = _show_warning
        warnings.simplefilter("always", InputWarning)
        try:
            return COMMANDS[args.command](args)
        except UserError as exc:
            print(f"seq2seq: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("seq2seq: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0


def console() -> None:
    """`seq2seq ...` and `python -m seq2seq ...`: main(), then the end of the process with its status."""
    status = main()
    if "seq2seq.training.distributed" in sys.modules:     # a command that may have trained data-parallel ran
        from .training.distributed import end_rank
        end_rank(status)                                  # a torchrun rank ends here, unfinalized
    raise SystemExit(status)
