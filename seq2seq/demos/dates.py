"""`seq2seq demo`: the built-in default job — date normalisation with a small Bahdanau-attention model.

Generates human-written dates in many formats (seq2seq/data/text/synthetic.py), trains on the CPU, and reports test
exact
match, a few conversions, the run directory and the commands to try next.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from ..config import validate
from ..data.text.lines import read_lines
from ..errors import UserError
from ..inference.translator import Translator
from ..metrics import score
from ..rundir import RunDir
from ..training.train import train

DEMO_CONFIG = {
    "data": {"synthetic": {"task": "dates", "train_size": 12000, "valid_size": 500, "test_size": 1000, "seed": 2009},
             "max_len": 64},
    "tokenizer": {"type": "char", "joint": False},
    "model": {"embedding_size": 48,
              "encoder": {"rnn": "gru", "hidden_size": 96, "layers": 1, "bidirectional": True, "dropout": 0.0},
              "decoder": {"attention": "bahdanau", "rnn": "gru", "hidden_size": 128, "layers": 1, "dropout": 0.0},
              "max_src_len": 64},
    "train": {"epochs": 12, "batch_sentences": 64, "lr": 3e-3, "lr_schedule": "plateau", "plateau_patience": 0,
              "valid_metric": "accuracy", "patience": 3, "log_every": 50, "threads": 1},
    "decode": {"max_len_a": 0.0, "max_len_b": 12, "batch_size": 250},
}

EXAMPLES = ["Thursday, 25th of June 2009", "06/25/09", "25 jun. 2009", "june twenty-fifth, 2009",
            "the thirty-first of december, 1999", "MARCH 3RD, 2041", "Sunday June 1st 1952", "14.07.1989"]


def run_demo(run_dir: Path, seed: int = 1, verbose: bool = True) -> dict:
    if run_dir.exists():
        if not RunDir(run_dir).format.is_file() or not (run_dir / "data" / "test.src").is_file():
            raise UserError(f"{run_dir} exists and is not a demo run; choose another --run-dir")
        shutil.rmtree(run_dir)
    raw = json.loads(json.dumps(DEMO_CONFIG))
    raw["train"]["seed"] = seed
    config = validate(raw, origin="demo config")
    say = (lambda s: print(s, flush=True)) if verbose else (lambda s: None)
    say("seq2seq demo: normalise human-written dates to ISO 8601 with a Bahdanau-attention GRU (CPU)")
    started = time.time()
    result = train(config, run_dir, verbose=verbose)
    translator = Translator.load(run_dir)
    src = read_lines(run_dir / "data" / "test.src")
    ref = read_lines(run_dir / "data" / "test.tgt")
    hyps = [t.text for t in translator.translate(src)]
    test = score(hyps, ref)
    say("")
    say(f"test exact match: {test.exact_match:.1f}% of {test.sentences:,} unseen dates "
        f"(trained {result.steps:,} updates in {result.seconds:.0f} s; whole demo {time.time() - started:.0f} s)")
    say("examples:")
    for example, out in zip(EXAMPLES, translator.translate(EXAMPLES)):
        say(f"  {example:38} -> {out.text}")
    say(f"\nrun saved in {run_dir}/  (config.yaml, tokenizer/, best.safetensors, metrics.jsonl, data/)")
    say("next (in the virtual environment: . .venv/bin/activate):")
    say(f"  echo '4th of July 1976' | seq2seq translate {run_dir}")
    say(f"  seq2seq evaluate {run_dir} --src {run_dir}/data/test.src --ref {run_dir}/data/test.tgt")
    say(f"  python -c \"import seq2seq; r = seq2seq.load('{run_dir}').translate(['25 jun. 2009'])[0]; "
        f"print(r.text, r.attention.shape)\"")
    say("  seq2seq train configs/multi30k_de_en.yaml      # the Multi30k German→English recipe")
    return {"exact_match": test.exact_match, "steps": result.steps, "seconds": time.time() - started}


if __name__ == "__main__":
    run_demo(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/demo"))
