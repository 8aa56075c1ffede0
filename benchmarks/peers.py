"""Training and decoding speed beside the peers, OpenNMT-py 3.5.1 and Joey NMT 2.3.0, on the same data, in one run.

    .venv/bin/python benchmarks/peers.py [--steps 200] [--window 20] [--threads 2] [--sentences 1000]
        [--only joey onmt fp32 bf16] [--skip-install]

Installs each peer from PyPI into its own virtual environment (benchmarks/.cache/peers/onmt, …/joey; torch==2.13.0
first, then the peer with --no-deps and its requirements less torch, so every toolkit runs the same torch build;
a marker file makes this a no-op the next time). Writes the reference SentencePiece pieces of Multi30k de→en
(`common.tokenizer_run()`, data.max_len 100 as our loop filters) as space-separated pieces and the per-side
vocabularies of the training pieces to benchmarks/.cache/peers/data/, so all three toolkits see the same pieces.
Each toolkit then trains the reference architecture (embeddings 256, bidirectional GRU encoder 256 per direction,
GRU decoder 512 with attention and input feeding, batches of 64 sentences, Adam 1e-3, label smoothing 0.1,
dropout 0.2) for `--steps` updates in its own process with `--threads` threads, and decodes the first
`--sentences` sentences of test_2016_flickr greedily and with beam 5 (batch 64, at most 100 pieces, GNMT α = 1.0)
with the checkpoint saved after those updates.

Training: target tokens/s (EOS included) as each toolkit logs it every `--window` updates — OpenNMT-py's
"src/tgt tok/s" (the second figure), Joey NMT's "Tokens per Sec", our metrics.jsonl `tokens_per_s`; the first
window is warm-up, the figure is the median of the others. Decoding: sentences/s of the whole translate command
(start-up and model load included) and, where the peer logs it, of the decoding alone. Decoding speed depends on
the output lengths, so the mean output length (pieces + EOS) is recorded with it: a model trained for only a few
updates often runs to the length limit. Also: the fp32 matmul peak of this run (`efficiency.matmul_peak`) and the
machine. Writes benchmarks/results/peers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PEERS = common.CACHE / "peers"
DATA = PEERS / "data"
TORCH = "torch==2.13.0"
ONMT = "OpenNMT-py==3.5.1"
JOEY = "joeynmt==2.3.0"
# The peers' requirements less torch (pinned <2.3 by OpenNMT-py) — OpenNMT-py's ctranslate2 is imported only for
# its CTranslate2 inference engine; Joey NMT's linters, pytest and Hugging Face datasets are not needed to train or
# decode plain text files.
REQUIREMENTS = {
    "onmt": [ONMT, ["configargparse", "tensorboard>=2.3", "flask", "waitress", "pyonmttok>=1.37,<2", "pyyaml",
                    "sacrebleu", "rapidfuzz", "pyahocorasick", "fasttext-wheel", "spacy", "six"],
             "import onmt.bin.train, onmt.bin.translate"],
    "joey": [JOEY, ["numpy>=1.19.5", "pillow", "future", "setuptools>=41.0.0", "protobuf>=3.19.4,<3.21",
                    "tensorboard>=1.15", "sacrebleu>=2.0.0", "sacremoses", "sentencepiece", "subword-nmt",
                    "matplotlib", "seaborn", "pyyaml>=5.1", "six>=1.12", "wrapt>=1.11.1", "packaging", "plotly",
                    "pandas", "tqdm", "importlib_metadata"],
             "import joeynmt.training, joeynmt.prediction"],
}
ROWS = {"joey": "Joey NMT 2.3.0", "onmt": "OpenNMT-py 3.5.1", "fp32": "seq2seq fp32", "bf16": "seq2seq bf16"}
MAX_LEN = 100
ONMT_TOK_S = r"[\d.]+/\s*([\d.]+) tok/s"     # OpenNMT-py's training log: "src/tgt tok/s", the target figure
BATCH = 64


# ---- installation --------------------------------------------------------------------------------------------

def venv(name: str) -> Path:
    return PEERS / name


def pip(name: str, *args: str) -> None:
    subprocess.run([str(venv(name) / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                    "-q", *args], check=True)


def install(name: str) -> None:
    """The peer's virtual environment, made or completed once (the marker records what was installed)."""
    peer, requirements, check = REQUIREMENTS[name]
    marker = venv(name) / ".installed.json"
    wanted = {"torch": TORCH, "peer": peer, "requirements": requirements}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return
    print(f"installing {peer} into {venv(name).relative_to(common.REPO)}", file=sys.stderr, flush=True)
    if not (venv(name) / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv(name))], check=True)
    pip(name, TORCH)                                   # first: the peers' requirements must not replace it
    pip(name, "--no-deps", peer)
    pip(name, *requirements, TORCH)                    # TORCH again: nothing may move it
    subprocess.run([str(venv(name) / "bin" / "python"), "-c", check], check=True)
    write_text(marker, json.dumps(wanted, indent=1) + "\n")


def write_text(path: Path, text: str) -> None:
    from seq2seq.files import write_atomic

    write_atomic(path, text.encode("utf-8"))


# ---- data: the reference pieces for the peers ----------------------------------------------------------------

def prepare_data(sentences: int) -> dict[str, Any]:
    """train/valid/test.{de,en} as space-separated pieces, test.raw.de (the untokenized sources for our translate),
    vocab.{de,en} (training pieces by frequency, "piece<TAB>count"); redone when the tokenizer or --sentences
    changes."""
    from seq2seq.checkpoint import tokenizers_of

    run = common.tokenizer_run()
    marker = DATA / "done.json"
    stamp = {"tokenizer": str(run), "sentences": sentences, "max_len": MAX_LEN}
    if marker.is_file() and json.loads(marker.read_text())["stamp"] == stamp:
        return json.loads(marker.read_text())
    src_tok, tgt_tok = tokenizers_of(run)
    root, config = common.multi30k(), common.reference_config()
    pieces = {"de": lambda s: " ".join(src_tok.pieces(src_tok.encode(s))),
              "en": lambda s: " ".join(tgt_tok.pieces(tgt_tok.encode(s)))}
    split = {"train": config.data.train, "valid": config.data.valid, "test": config.data.test}
    info: dict[str, Any] = {"stamp": stamp}
    for part, stem in split.items():
        lines = {lang: (root / f"{stem}.{lang}").read_text(encoding="utf-8").splitlines() for lang in ("de", "en")}
        pairs = [(pieces["de"](s), pieces["en"](t)) for s, t in zip(lines["de"], lines["en"])]
        if part == "train":                                          # as our loop keeps them (data.max_len)
            pairs = [p for p in pairs if p[0] and p[1] and max(len(p[0].split()), len(p[1].split())) <= MAX_LEN]
            write_vocabularies(pairs, info)
        if part == "test":
            pairs = pairs[:sentences]
            write_text(DATA / "test.raw.de", "\n".join(lines["de"][:sentences]) + "\n")
        for k, lang in enumerate(("de", "en")):
            write_text(DATA / f"{part}.{lang}", "\n".join(p[k] for p in pairs) + "\n")
        info[f"{part}_pairs"] = len(pairs)
    write_text(marker, json.dumps(info, indent=1) + "\n")
    return info


def write_vocabularies(pairs: list[tuple[str, str]], info: dict[str, Any]) -> None:
    for k, lang in enumerate(("de", "en")):
        counts = Counter(piece for pair in pairs for piece in pair[k].split())
        write_text(DATA / f"vocab.{lang}", "".join(f"{p}\t{n}\n" for p, n in counts.most_common()))
        write_text(DATA / f"vocab.joey.{lang}", "".join(f"{p}\n" for p, _ in counts.most_common()))
        info[f"vocab_{lang}"] = len(counts)


# ---- running a toolkit's command -----------------------------------------------------------------------------

def thread_env(threads: int) -> dict[str, str]:
    """The environment of a peer's or our command: `threads` threads, and OpenMP's spin-wait left to each program
    (importing seq2seq here set a short one; the peers get libgomp's default, ours chooses its own)."""
    from seq2seq.threads import without_package_spin

    inherited = without_package_spin(os.environ)
    # torch.load in the peers' own loaders predates weights_only=True (the default since torch 2.6)
    return {**inherited, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "TOKENIZERS_PARALLELISM": "false"}


def run(cmd: list[str], log: Path, threads: int, stdin: Optional[Path] = None) -> dict[str, float]:
    """Run `cmd` with its stdout and stderr in `log`; its wall-clock seconds and peak RSS (MiB)."""
    started = time.perf_counter()
    with log.open("w") as out, (stdin.open() if stdin else open(os.devnull)) as inp:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=inp, env=thread_env(threads),
                                cwd=log.parent)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd[:4])} … failed; see {log}:\n" + "\n".join(log.read_text().splitlines()[-15:]))
    return {"wall_s": round(time.perf_counter() - started, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def windows_of(log: Path, pattern: str) -> list[float]:
    """The tokens/s figures a training log printed (one per window), the first (warm-up) left out."""
    return [float(m) for m in re.findall(pattern, log.read_text())][1:]


def training_figures(windows: list[float], proc: dict[str, float]) -> dict[str, Any]:
    if not windows:
        sys.exit("no timed training window: raise --steps or lower --window")
    return {"windows_tok_s": windows, "tokens_per_s": round(common.median(windows), 1), **proc}


def decode_figures(proc: dict[str, float], output: Path, sentences: int,
                   decode_s: Optional[float]) -> dict[str, Any]:
    lines = output.read_text(encoding="utf-8").splitlines()
    return {"sentences": sentences, "sentences_per_s": round(sentences / proc["wall_s"], 2),
            "decode_s": decode_s, "decode_sentences_per_s": round(sentences / decode_s, 2) if decode_s else None,
            "mean_output_pieces": round(sum(len(line.split()) + 1 for line in lines) / max(1, len(lines)), 1),
            **proc}


# ---- OpenNMT-py ----------------------------------------------------------------------------------------------

def onmt_config(folder: Path, steps: int, window: int) -> dict[str, Any]:
    return {
        "data": {"corpus_1": {"path_src": str(DATA / "train.de"), "path_tgt": str(DATA / "train.en")},
                 "valid": {"path_src": str(DATA / "valid.de"), "path_tgt": str(DATA / "valid.en")}},
        "src_vocab": str(DATA / "vocab.de"), "tgt_vocab": str(DATA / "vocab.en"), "share_vocab": False,
        "src_vocab_size": 100000, "tgt_vocab_size": 100000, "src_words_min_frequency": 1,
        "tgt_words_min_frequency": 1, "save_model": str(folder / "model"), "overwrite": True,
        "save_checkpoint_steps": steps, "train_steps": steps, "valid_steps": 10**9, "report_every": window,
        "seed": 1, "world_size": 1, "gpu_ranks": [], "num_workers": 0,
        "encoder_type": "brnn", "decoder_type": "rnn", "rnn_type": "GRU", "word_vec_size": 256,
        "enc_hid_size": 512, "dec_hid_size": 512, "enc_layers": 1, "dec_layers": 1, "global_attention": "mlp",
        "input_feed": 1, "bridge": True, "dropout": [0.2], "batch_size": BATCH, "batch_type": "sents",
        "valid_batch_size": BATCH, "optim": "adam", "learning_rate": 0.001, "max_grad_norm": 1.0,
        "label_smoothing": 0.1,
        # OpenNMT-py's own initialisation (uniform ±0.1). Until 2026-11-30 this set Glorot (param_init 0,
        # param_init_glorot), which trains no slower but learns markedly worse: equal_time.py, docs/performance.md
    }


def onmt(steps: int, window: int, threads: int, sentences: int) -> dict[str, Any]:
    import yaml

    folder, bin_ = PEERS / "runs" / "onmt", venv("onmt") / "bin"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_text(folder / "config.yaml", yaml.safe_dump(onmt_config(folder, steps, window)))
    proc = run([str(bin_ / "onmt_train"), "-config", str(folder / "config.yaml")], folder / "train.log", threads)
    result = {"train": training_figures(windows_of(folder / "train.log", ONMT_TOK_S), proc)}
    for beam in (1, 5):
        out = folder / f"beam{beam}.txt"
        cmd = [str(bin_ / "onmt_translate"), "-model", str(folder / f"model_step_{steps}.pt"), "-src",
               str(DATA / "test.de"), "-output", str(out), "-beam_size", str(beam), "-batch_size", str(BATCH),
               "-batch_type", "sents", "-max_length", str(MAX_LEN), "-gpu", "-1", "-report_time"]
        cmd += ["-length_penalty", "wu", "-alpha", "1.0"] if beam > 1 else []
        proc = run(cmd, folder / f"beam{beam}.log", threads)
        logged = re.search(r"Total translation time \(s\): ([\d.]+)", (folder / f"beam{beam}.log").read_text())
        result[f"beam{beam}"] = decode_figures(proc, out, sentences, float(logged.group(1)) if logged else None)
    return result


# ---- Joey NMT ------------------------------------------------------------------------------------------------

def joey_side(lang: str) -> dict[str, Any]:
    return {"lang": lang, "level": "word", "lowercase": False, "max_length": MAX_LEN,
            "voc_file": str(DATA / f"vocab.joey.{lang}"), "voc_min_freq": 1}


def joey_config(folder: Path, steps: int, window: int, beam: int = 1, train: bool = True) -> dict[str, Any]:
    data = {"train": str(DATA / "train"), "test": str(DATA / "test"), "dataset_type": "plain",
            "src": joey_side("de"), "trg": joey_side("en")}
    if train:                                                  # decoding: the test set only
        data["dev"] = str(DATA / "valid")
    rnn = {"type": "recurrent", "rnn_type": "gru", "num_layers": 1, "dropout": 0.2}
    return {
        "name": "peers", "joeynmt_version": "2.3.0", "model_dir": str(folder / "model"), "use_cuda": False,
        "num_workers": 0, "data": data,
        "testing": {"beam_size": beam, "beam_alpha": 1.0 if beam > 1 else -1, "batch_size": BATCH,
                    "batch_type": "sentence", "max_output_length": MAX_LEN, "eval_metrics": ["bleu"],
                    "sacrebleu_cfg": {"tokenize": "13a"}, "load_model": str(folder / "model" / f"{steps}.ckpt")},
        "training": {"random_seed": 1, "optimizer": "adam", "learning_rate": 0.001, "batch_size": BATCH,
                     "batch_type": "sentence", "label_smoothing": 0.1, "clip_grad_norm": 1.0, "updates": steps,
                     "epochs": 1000, "logging_freq": window, "validation_freq": window * 10**6, "overwrite": True,
                     "shuffle": True, "print_valid_sents": [], "keep_best_ckpts": 1,
                     # constant lr: Joey's "plateau" passes ReduceLROnPlateau(verbose=), which torch 2.13 lacks
                     "scheduling": "exponential", "decrease_factor": 1.0},
        "model": {"initializer": "xavier_uniform", "embed_initializer": "xavier_uniform",
                  "encoder": {**rnn, "hidden_size": 256, "bidirectional": True,
                              "embeddings": {"embedding_dim": 256}},
                  "decoder": {**rnn, "hidden_size": 512, "attention": "luong", "input_feeding": True,
                              "init_hidden": "bridge", "hidden_dropout": 0.2,
                              "embeddings": {"embedding_dim": 256}}},
    }


def joey(steps: int, window: int, threads: int, sentences: int) -> dict[str, Any]:
    import yaml

    folder, python = PEERS / "runs" / "joey", str(venv("joey") / "bin" / "python")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_text(folder / "train.yaml", yaml.safe_dump(joey_config(folder, steps, window)))
    proc = run([python, "-m", "joeynmt", "train", str(folder / "train.yaml"), "--skip-test"], folder / "train.log",
               threads)
    result = {"train": training_figures(windows_of(folder / "train.log", r"Tokens per Sec:\s*([\d.]+)"), proc)}
    for beam in (1, 5):
        config = folder / f"beam{beam}.yaml"
        write_text(config, yaml.safe_dump(joey_config(folder, steps, window, beam, train=False)))
        out = folder / f"beam{beam}"
        proc = run([python, "-m", "joeynmt", "test", str(config), "--output-path", str(out)],
                   folder / f"beam{beam}.log", threads)
        logged = re.search(r"Generation took ([\d.]+)\[sec\]", (folder / f"beam{beam}.log").read_text())
        result[f"beam{beam}"] = decode_figures(proc, Path(f"{out}.test"), sentences,
                                               float(logged.group(1)) if logged else None)
    return result


# ---- ours ----------------------------------------------------------------------------------------------------

def ours(precision: str, steps: int, window: int, threads: int, sentences: int) -> dict[str, Any]:
    """The reference training through the CLI (`common.reference_training`, its run kept for decoding), then
    `seq2seq translate` of the same sentences (untokenized: ours encodes them itself, to the same pieces)."""
    from seq2seq.checkpoint import tokenizers_of

    folder = PEERS / "runs" / f"seq2seq-{precision}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    train = common.reference_training([sys.executable, "-m", "seq2seq"],
                                      [f"train.threads={threads}", f"train.precision={precision}",
                                       "train.valid_metric=loss"], steps, window,
                                      env=thread_env(threads), keep=folder / "run")
    result: dict[str, Any] = {"train": train}
    _, tgt_tok = tokenizers_of(common.tokenizer_run())
    for beam in (1, 5):
        out = folder / f"beam{beam}.txt"
        cmd = [sys.executable, "-m", "seq2seq", "translate", str(folder / "run"), "--input",
               str(DATA / "test.raw.de"), "--output", str(out), "--beam-size", str(beam), "--batch-size",
               str(BATCH), "--max-len", str(MAX_LEN), "--device", "cpu", "--threads", str(threads),
               "--precision", precision]
        cmd += ["--alpha", "1.0"] if beam > 1 else []
        proc = run(cmd, folder / f"beam{beam}.log", threads)
        pieces = folder / f"beam{beam}.pieces"                     # outputs as pieces, to count them as the peers'
        write_text(pieces, "".join(" ".join(tgt_tok.pieces(tgt_tok.encode(line))) + "\n"
                                   for line in out.read_text(encoding="utf-8").splitlines()))
        result[f"beam{beam}"] = decode_figures(proc, pieces, sentences, decoding_only(folder / "run", beam, threads,
                                                                                      precision, sentences))
    return result


def decoding_only(run_dir: Path, beam: int, threads: int, precision: str, sentences: int) -> float:
    """Seconds of decoding alone (tokenise → search → detokenise on the loaded model, median of 3 passes:
    decode_throughput.py's child on the same first `sentences` of the test set), as the peers log theirs."""
    return common.run_child("decode_throughput.py", [str(run_dir), "--beam", str(beam), "--batch", str(BATCH),
                                                     "--threads", str(threads), "--repeat", "3",
                                                     "--precision", precision, "--sentences", str(sentences)])["decode_s"]


# ---- the table -----------------------------------------------------------------------------------------------

def measure(row: str, args) -> dict[str, Any]:
    if row == "onmt":
        return onmt(args.steps, args.window, args.threads, args.sentences)
    if row == "joey":
        return joey(args.steps, args.window, args.threads, args.sentences)
    return ours(row, args.steps, args.window, args.threads, args.sentences)


FIGURES = {"training tok/s": ("train", "tokens_per_s"), "greedy sent/s": ("beam1", "sentences_per_s"),
           "beam-5 sent/s": ("beam5", "sentences_per_s"),
           "greedy sent/s, decoding only": ("beam1", "decode_sentences_per_s"),
           "beam-5 sent/s, decoding only": ("beam5", "decode_sentences_per_s")}


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Optional[float]]]:
    """Each row's figures divided by the fastest peer's (None without a peer row)."""
    out: dict[str, dict[str, Optional[float]]] = {}
    for row, result in results.items():
        out[row] = {}
        for name, (part, key) in FIGURES.items():
            peers = [results[p][part][key] for p in ("joey", "onmt") if p in results and results[p][part][key]]
            mine = result[part][key]
            out[row][name] = round(mine / max(peers), 2) if peers and mine else None
    return out


def render(results: dict[str, dict[str, Any]], rel: dict[str, dict[str, Optional[float]]]) -> str:
    rows = []
    for row, result in results.items():
        figures = [result[part][key] if result[part][key] is not None else "–" for part, key in FIGURES.values()]
        shown = [f"×{r:.2f}" if r is not None else "–" for r in rel[row].values()]
        lengths = f"{result['beam1']['mean_output_pieces']} / {result['beam5']['mean_output_pieces']}"
        rows.append([ROWS[row], *figures, *shown, lengths])
    headers = ["toolkit", *FIGURES, *(f"{name} vs fastest peer" for name in FIGURES),
               "output pieces (greedy / beam 5)"]
    return common.table(headers, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200, help="training updates per toolkit (default 200)")
    ap.add_argument("--window", type=int, default=20, help="updates per logged throughput window (default 20)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sentences", type=int, default=1000, help="test_2016_flickr sentences decoded (default all)")
    ap.add_argument("--only", nargs="*", choices=list(ROWS), help="rows to run (default all)")
    ap.add_argument("--skip-install", action="store_true", help="use the peers' environments as they are")
    args = ap.parse_args()
    rows = [r for r in ROWS if not args.only or r in args.only]
    for name in ("joey", "onmt"):
        if name in rows and not args.skip_install:
            install(name)
    data = prepare_data(args.sentences)
    from efficiency import matmul_peak

    peak = round(matmul_peak(args.threads, 2048), 1)
    results = {}
    for row in rows:
        results[row] = measure(row, args)
        print(f"{ROWS[row]}: {results[row]['train']['tokens_per_s']:,.0f} tok/s", file=sys.stderr, flush=True)
    rel = ratios(results)
    text = render(results, rel) + (
        f"\n\n{args.threads} threads, {args.steps} updates (window {args.window}), {args.sentences} test sentences, "
        f"batch {BATCH}; fp32 matmul peak (2048², {args.threads} threads): {peak} GFLOP/s; vocabularies "
        f"{data['vocab_de']:,} de / {data['vocab_en']:,} en pieces (peers)")
    common.save("peers", {"threads": args.threads, "steps": args.steps, "window": args.window,
                          "sentences": args.sentences, "matmul_peak_gflops": peak, "data": data,
                          "ratios_vs_fastest_peer": rel, "rows": {ROWS[r]: v for r, v in results.items()}}, text)


if __name__ == "__main__":
    main()
