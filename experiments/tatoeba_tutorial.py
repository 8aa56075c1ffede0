"""The PyTorch seq2seq tutorial's own data and model, against this toolkit's recipe on the same data.

    .venv/bin/python experiments/tatoeba_tutorial.py [--threads 1] [--work runs/tatoeba_tutorial]

The tutorial ("NLP From Scratch: Translation with a Sequence to Sequence Network and Attention") normalises
Tatoeba (lower case, accents stripped to ASCII, everything but letters and !? removed), keeps the pairs whose both
sides have fewer than 10 words and whose English starts with "i am", "he is", "you are", … (and the contracted
"i m", "he s", …), and trains a GRU of 128 with Bahdanau attention, decoding greedily. Here both models translate
English → French (the direction of configs/tatoeba_en_fr.yaml; the tutorial goes French → English) on that subset:

- `tutorial`: the tutorial's architecture rebuilt from our parts — word vocabularies, embeddings and GRUs of 128, a
  unidirectional 1-layer encoder, Bahdanau attention from the previous state, dropout 0.1, Adam 1e-3 at a constant
  rate, batches of 32, no clipping or label smoothing, 80 epochs, greedy decoding. (Our encoder's final state goes
  through a linear bridge where the tutorial copies it.)
- `recipe`: configs/tatoeba_en_fr.yaml unchanged but for the data (SentencePiece, bidirectional encoder, Luong
  attention with input feeding, label smoothing, plateau schedule, early stopping, beam 5).

Both hold out the same validation pairs (5% of the subset, by English sentence; the tutorial itself has none) and
are scored on them with sacreBLEU (on the normalised text, which is what both models see). Training is resumable: a
killed script picks up where it stopped. Writes experiments/results/tatoeba_tutorial.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from seq2seq.config import load_config, validate  # noqa: E402
from seq2seq.data.shared import shared_data_path  # noqa: E402

ENGLISH_PREFIXES = ("i am ", "i m ", "he is", "he s ", "she is", "she s ", "you are", "you re ", "we are", "we re ",
                    "they are", "they re ")
MAX_WORDS = 10      # the tutorial's MAX_LENGTH: both sides have fewer words than this

TUTORIAL = {
    "tokenizer": {"type": "whitespace", "joint": False},
    "model": {"embedding_size": 128,
              "encoder": {"rnn": "gru", "hidden_size": 128, "layers": 1, "bidirectional": False, "dropout": 0.1},
              "decoder": {"attention": "bahdanau", "rnn": "gru", "hidden_size": 128, "layers": 1, "dropout": 0.1},
              "bridge": "linear"},
    "train": {"seed": 1, "epochs": 80, "batch_sentences": 32, "lr": 1e-3, "clip_norm": None, "label_smoothing": 0.0,
              "lr_schedule": "constant", "valid_metric": "bleu", "patience": None, "valid_every": None},
    "decode": {"beam_size": 1, "max_len_a": 1.5, "max_len_b": 10, "batch_size": 100},
}


def normalise(text: str) -> str:
    """The tutorial's normalizeString: lower case, ASCII, letters and !? only."""
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower().strip()) if unicodedata.category(c) != "Mn")
    text = re.sub(r"([.!?])", r" \1", text)
    return re.sub(r"[^a-zA-Z!?]+", " ", text).strip()


def write_subset(work: Path) -> Path:
    """The tutorial's filtered pairs as English<TAB>French (normalised), in corpus order."""
    path = work / "tutorial_subset.tsv"
    if path.is_file():
        return path
    pairs = []
    for line in (shared_data_path() / "tatoeba-eng-fra" / "eng-fra.tsv").read_text(encoding="utf-8").splitlines():
        en, fr = (normalise(side) for side in line.split("\t")[:2])
        if len(en.split(" ")) < MAX_WORDS and len(fr.split(" ")) < MAX_WORDS and en.startswith(ENGLISH_PREFIXES):
            pairs.append(f"{en}\t{fr}\n")
    work.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(pairs), encoding="utf-8")
    tmp.replace(path)
    return path


def configs(subset: Path, threads: int) -> dict:
    data = {"root": str(subset.parent), "train": subset.name, "valid_split": 0.05, "max_len": 100}
    tutorial = validate({**TUTORIAL, "data": data, "train": {**TUTORIAL["train"], "threads": threads}})
    recipe = load_config(REPO / "configs" / "tatoeba_en_fr.yaml",
                         [f"data.root={subset.parent}", f"data.train={subset.name}", "data.valid_split=0.05",
                          f"train.threads={threads}"])
    return {"tutorial": tutorial, "recipe": recipe}


def score(run: Path, beam: int) -> dict:
    from sacrebleu.metrics import BLEU, CHRF

    from seq2seq.inference.translator import Translator

    sources = (run / "data" / "valid.src").read_text(encoding="utf-8").splitlines()
    refs = (run / "data" / "valid.tgt").read_text(encoding="utf-8").splitlines()
    hyps = [t.text for t in Translator.load(run).translate(sources, beam_size=beam, attention=False)]
    exact = sum(h == r for h, r in zip(hyps, refs)) / len(refs)
    return {"bleu": round(BLEU().corpus_score(hyps, [refs]).score, 2),
            "chrf": round(CHRF().corpus_score(hyps, [refs]).score, 2), "exact": round(100 * exact, 1)}


def training_summary(run: Path) -> dict:
    from seq2seq.checkpoint import read_metrics

    events = read_metrics(run)
    end = [e for e in events if e["event"] == "end"][-1]
    valids = [e for e in events if e["event"] == "valid"]
    best = max(valids, key=lambda e: e["bleu"])
    # a resumed run's clock restarts: its time is the sum over its stretches, each closed by an interrupt or an end
    seconds = sum(e["time"] for e in events if e["event"] in ("interrupt", "end"))
    return {"updates": end["step"], "seconds": round(seconds, 1), "stopped": end["reason"],
            "best_update": best["step"], "best_greedy_val_bleu": best["bleu"]}


def main() -> None:
    from seq2seq.training.train import ensure_trained

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "tatoeba_tutorial")
    ap.add_argument("--only", choices=["tutorial", "recipe"])
    args = ap.parse_args()
    subset = write_subset(args.work)
    rows = {}
    for name, config in configs(subset, args.threads).items():
        if args.only and name != args.only:
            continue
        run = args.work / name
        ensure_trained(config, run, verbose=True)
        rows[name] = {**training_summary(run), "greedy": score(run, 1), "beam5": score(run, 5)}
        print(name, json.dumps(rows[name]), flush=True)
    pairs = len(subset.read_text(encoding="utf-8").splitlines())
    out = REPO / "experiments" / "results" / "tatoeba_tutorial.json"
    out.write_text(json.dumps({"subset_pairs": pairs, "threads": args.threads, "runs": rows}, indent=1) + "\n")
    print(f"written {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
