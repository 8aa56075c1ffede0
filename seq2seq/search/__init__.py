"""Search: token search (`tokens.py`: greedy and beam, for one model or an ensemble), frame generation
(`frames.py`), what a search call runs with (`options.py`) and the ensemble every search decodes through
(`ensemble.py`). Every path runs the same `Decoder.step` that training uses."""

from .ensemble import Decodable, Ensemble
from .frames import FrameOutput, generate_frames
from .options import SearchOptions, describe_invalid, search_options, validation_options
from .tokens import Hypothesis, as_ensemble, beam_search, decode_all, greedy, max_lengths

__all__ = ["Decodable", "Ensemble", "FrameOutput", "Hypothesis", "SearchOptions", "as_ensemble", "beam_search",
           "decode_all", "describe_invalid", "generate_frames", "greedy", "max_lengths", "search_options",
           "validation_options"]
