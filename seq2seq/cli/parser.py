"""The argument parser: every command, its flags and their help (what `seq2seq COMMAND --help` prints)."""

from __future__ import annotations

import argparse

EPILOG_TRAIN = """examples:
  seq2seq train configs/multi30k_de_en.yaml
  seq2seq train configs/multi30k_de_en.yaml --set model.decoder.attention=bahdanau --run-dir runs/bahdanau
  seq2seq train --resume --run-dir runs/multi30k_de_en --set train.epochs=20
every config field, its default and what it allows: seq2seq config"""
DEVICE_HELP = "auto (default: a CUDA GPU when PyTorch sees one), cpu, cuda, cuda:N or mps"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seq2seq", description="Recurrent sequence-to-sequence models with attention: "
                                "train, translate, evaluate.")
    from ..version import __version__

    p.add_argument("--version", action="version", version=f"seq2seq {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    _add_train(sub)
    _add_translate(sub)
    _add_export(sub)
    _add_transcribe(sub)
    _add_read(sub)
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
                        description="Greedy or beam search. Writes exactly one detokenized line per input line, in "
                                    "order; "
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


PER_FILE = ("Writes exactly one line per input file, in order; a file that cannot be read gets an empty line, its "
            "error on stderr, and the exit status is 1.")


def _add_transcribe(sub) -> None:
    _add_per_file(sub, "transcribe", "transcribe WAV files with a speech_to_text run, one line per file",
                  "Greedy or beam search over each file's log-mel frames (computed at the file's own sample rate, "
                  "normalised as in training).", "a speech_to_text run directory",
                  ("audio", "WAV", "audio files (16-bit PCM WAV; also 8/24/32-bit, float)"), "audio files")


def _add_read(sub) -> None:
    _add_per_file(sub, "read", "read images (lines of text, digit strings) with an image_to_text run, one line per "
                               "file",
                  "Greedy or beam search over each image's columns (grey, scaled to the run's height, normalised as "
                  "in training). PNG, JPEG, TIFF, BMP, GIF, WebP; an animation or multi-page file is read at its "
                  "first frame.", "an image_to_text run directory", ("images", "IMAGE", "image files"),
                  "image files")


def _add_per_file(sub, name: str, help: str, description: str, run: str, inputs: tuple[str, str, str],
                  listed: str) -> None:
    """A command that reads files and writes one line each: RUN_DIR, the files or --input LIST, -o, --jsonl."""
    p = sub.add_parser(name, help=help, description=f"{description} {PER_FILE}")
    p.add_argument("run_dir", metavar="RUN_DIR", help=run)
    p.add_argument(inputs[0], nargs="*", metavar=inputs[1], help=inputs[2])
    p.add_argument("--input", "-i", help=f"a text file listing {listed}, one path per line (relative to the "
                                         f"current folder)")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--jsonl", action="store_true",
                   help="one JSON object per file: {\"file\", \"text\", \"score\", \"tokens\"}")
    _decode_options(p)


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
    at = sub.add_parser("attention", help="draw the attention behind a run's outputs (PNG/SVG), one picture per input",
                        description="Predict each input with the run and draw the attention as its task draws it: "
                                    "for text, a heatmap with source pieces along x, generated pieces along y and "
                                    "the weights as colour; for speech in or out, the spectrogram above the "
                                    "alignment (with --beam-size K, the best hypothesis). Also writes the matrix "
                                    "as JSON beside each image.")
    at.add_argument("run_dir", metavar="RUN_DIR", help="a run directory of any task")
    at.add_argument("text", nargs="*",
                    help="the inputs: sentences for a run that reads text, WAV files for one that reads speech "
                         "(or --input)")
    at.add_argument("--input", "-i", help="read the inputs from this file, one per line")
    at.add_argument("--limit", type=int, help="only the first N lines of --input")
    at.add_argument("--format", nargs="+", choices=["png", "svg"], default=["png"], help="image format(s)")
    at.add_argument("--output-dir", "-o", help="where to write (default: RUN_DIR/attention)")
    _decode_options(at)


def _add_report(sub) -> None:
    rp = sub.add_parser("report", help="write a self-contained HTML report of a run (curves, samples, attention)",
                        description="One HTML file with everything inlined: training curves from metrics.jsonl, the "
                                    "first validation sentences translated by the best checkpoint, and the attention "
                                    "heatmaps written during training. Opens in a browser with no server.")
    rp.add_argument("run_dir", metavar="RUN_DIR", help="a run directory of any task")
    rp.add_argument("-o", "--output", help="the HTML file (default: RUN_DIR/report.html)")
    rp.add_argument("--samples", type=int, default=10, help="validation sentences to translate (default 10)")
    rp.add_argument("--device", default="auto", help=DEVICE_HELP)


def _add_evaluate(sub) -> None:
    ev = sub.add_parser("evaluate", help="predict a test set and print the task's scores (BLEU/chrF, WER/CER)",
                        description="Predict a test set and score it with the run's task: translation with "
                                    "sacreBLEU (BLEU and chrF, default 13a tokenization, cased, on detokenized "
                                    "text) on the run's own data.test by default, --test CORPUS, or --src/--ref "
                                    "files; speech_to_text with WER and CER and their edit counts on --manifest or "
                                    "the run's own test set.")
    ev.add_argument("run_dir", nargs="+", metavar="RUN_DIR", help="one run directory, or several (an ensemble)")
    ev.add_argument("--test", metavar="CORPUS", help="a .tsv file (source<TAB>reference), or a PREFIX read as "
                                                     "PREFIX.<src_lang> + PREFIX.<tgt_lang> of the run")
    ev.add_argument("--src", help="source file, one segment per line (a .tsv alone: both sides)")
    ev.add_argument("--ref", help="reference file, aligned with --src")
    ev.add_argument("--manifest", help="speech_to_text runs: a .tsv of path<TAB>transcript (paths relative to it) "
                                       "or an LJSpeech metadata.csv; prints WER and CER with their edit counts")
    ev.add_argument("--output", "-o", help="also write the outputs here, one line per test example")
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
    d.add_argument("--quiet", action="store_true", help="no progress output")


def _add_average(sub) -> None:
    a = sub.add_parser("average", help="average the weights of a run's last or best N validation snapshots",
                       description="Checkpoint averaging: writes a new run directory whose weights are the mean of "
                                   "N snapshots kept in RUN_DIR/checkpoints/ (see train.keep_checkpoints).")
    a.add_argument("run_dir", metavar="RUN_DIR", help="a run directory with snapshots in checkpoints/")
    which = a.add_mutually_exclusive_group(required=True)
    which.add_argument("--last", type=int, metavar="N", help="the N most recent snapshots")
    which.add_argument("--best", type=int, metavar="N", help="the N snapshots with the best validation metric")
    a.add_argument("-o", "--output", required=True, help="new run directory")


def _add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="serve a run over HTTP: JSON API with dynamic batching, attention web page",
                        description="Start a FastAPI/uvicorn server: POST /translate (POST /transcribe with a WAV "
                                    "body for a speech_to_text run, POST /synthesize for a text_to_speech run), "
                                    "GET /health, GET /info, "
                                    "OpenAPI docs at /docs, and the attention web page at /. Concurrent requests "
                                    "are merged into batches.")
    sv.add_argument("run_dir", nargs="+", metavar="RUN_DIR", help="a run directory (several: an ensemble)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument("--workers", type=int, default=1, help="server processes, each with its own model (default 1)")
    sv.add_argument("--no-batching", dest="batching", action="store_false", help="decode each request on its own")
    from ..config import ServeSettings

    for name, field in ServeSettings.model_fields.items():
        if name != "batching":
            default = f"{field.default:,}" if isinstance(field.default, int) else f"{field.default:g}"
            sv.add_argument(serve_flag(name), dest=name, type=type(field.default), default=field.default,
                            metavar="S" if name.endswith("_s") else "N",
                            help=f"{field.description} (default {default})")
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
    v.add_argument("run_dir", metavar="RUN_DIR", help="a run directory with text on at least one side")
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
    p.add_argument("--ctc-weight", type=float, metavar="λ",
                   help="speech and images: joint search, each step (1 − λ)·attention + λ·CTC prefix score; 1 = CTC "
                        "prefix search alone (default: the run's decode.ctc_weight)")
    p.add_argument("--ctc-greedy", action="store_true", default=None,
                   help="speech and images: CTC's best path alone (no attention decoder, no beam)")
    p.add_argument("--lm", metavar="RUN_DIR", help="a language_model run for shallow fusion (default: the run's "
                                                   "decode.lm)")
    p.add_argument("--lm-weight", type=float, metavar="β",
                   help="shallow fusion: each step adds β·log P_LM (default: the run's decode.lm_weight)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all cores)")
    p.add_argument("--precision", choices=["fp32", "bf16"],
                   help="bf16: matrix products in bfloat16, scores in fp32 (faster on CPUs with AVX-512 BF16; "
                        "default: the run's decode.precision)")


def serve_flag(name: str) -> str:
    """The `seq2seq serve` flag that sets ServeSettings field `name`."""
    return "--timeout" if name == "timeout_s" else f"--{name.replace('_', '-')}"
