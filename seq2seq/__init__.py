"""seq2seq: recurrent encoder–decoders with attention — train, translate, transcribe, synthesise, inspect.

    from seq2seq import load
    model = load("runs/demo")                       # a translation run: a Translator
    for r in model.translate(["25 jun. 2009"]):
        print(r.text, r.score, r.attention.shape)
    load("runs/fsdd_digits").transcribe(["a.wav"])  # a speech_to_text run: a Transcriber
    load("runs/fsdd_tts").synthesize(["three"])     # a text_to_speech run: a Synthesizer
"""

from .threads import short_openmp_spin
from .version import __version__

short_openmp_spin()      # before anything imports torch: see threads.py


def load(run_dir, which: str = "best", device: str = "cpu"):
    """Load a run directory (or several, an ensemble) into its task's predictor: a `Translator` for a translation
    run, a `Transcriber` for a speech_to_text run, a `Synthesizer` for a text_to_speech run (seq2seq.inference)."""
    from .inference import load as load_predictor

    return load_predictor(run_dir, which=which, device=device)


__all__ = ["load", "__version__"]
