"""seq2seq: recurrent encoder–decoders with attention — train, translate, evaluate, inspect.

    from seq2seq import load
    model = load("runs/demo")
    for r in model.translate(["25 jun. 2009"]):
        print(r.text, r.score, r.attention.shape)
"""

__version__ = "0.1.0"


def load(run_dir, which: str = "best", device: str = "cpu"):
    """Load a run directory for translation (see `seq2seq.api.Translator`)."""
    from .api import Translator

    return Translator.load(run_dir, which=which, device=device)


__all__ = ["load", "__version__"]
