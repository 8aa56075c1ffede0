"""seq2seq: recurrent encoder–decoders with attention — train, translate, transcribe, evaluate, inspect.

    from seq2seq import load
    model = load("runs/demo")                       # a translation run: a Translator
    for r in model.translate(["25 jun. 2009"]):
        print(r.text, r.score, r.attention.shape)
    load("runs/fsdd_digits").transcribe(["a.wav"])  # a speech_to_text run: a Transcriber
"""

__version__ = "0.1.0"

from .threads import short_openmp_spin

short_openmp_spin()      # before anything imports torch: see threads.py


def load(run_dir, which: str = "best", device: str = "cpu"):
    """Load a run directory: a `seq2seq.api.Translator` for a translation run, a
    `seq2seq.transcriber.Transcriber` for a speech_to_text run, a `seq2seq.synthesizer.Synthesizer` for a
    text_to_speech run."""
    from pathlib import Path

    from .api import Translator
    from .checkpoint import read_config

    task = read_config(Path(run_dir)).task if isinstance(run_dir, (str, Path)) else "translation"
    if task == "speech_to_text":
        from .transcriber import Transcriber

        return Transcriber.load(run_dir, which=which, device=device)
    if task == "text_to_speech":
        from .synthesizer import Synthesizer

        return Synthesizer.load(run_dir, which=which, device=device)
    return Translator.load(run_dir, which=which, device=device)


__all__ = ["load", "__version__"]
