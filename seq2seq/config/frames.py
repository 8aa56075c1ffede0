"""The frames side of speech tasks: the synthetic frames task, spoken digits, audio features, SpecAugment."""

from __future__ import annotations

from typing import Optional, Union

from pydantic import Field, model_validator

from .base import Strict
from .text import TranscriptForm, check_held_out, split_seed_field, valid_split_field


class SyntheticFramesConfig(Strict):
    """A built-in frames task generated from a seed: every symbol has a fixed random pattern of feature frames
    (its 'sound'); a sequence of symbols is the concatenation of their patterns. speech_to_text reads the frames
    (with noise, and each symbol held for a random number of frames) and writes the symbols; text_to_speech reads
    the symbols and writes the frames (noise 0, fixed durations)."""

    train_size: int = Field(3000, gt=0, description="training examples")
    valid_size: int = Field(200, gt=0, description="validation examples")
    test_size: int = Field(200, gt=0, description="test examples")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")
    min_len: int = Field(1, gt=0, description="fewest symbols per sequence")
    max_len: int = Field(7, gt=0, description="most symbols per sequence")
    symbols: int = Field(10, gt=1, le=52, description="alphabet size")
    feature_size: int = Field(8, gt=0, description="values per frame")
    min_frames: int = Field(2, gt=0, description="fewest frames per symbol")
    max_frames: int = Field(4, gt=0, description="most frames per symbol")
    noise: float = Field(0.3, ge=0, description="standard deviation of the Gaussian noise added to every frame")

    @model_validator(mode="after")
    def _ranges(self) -> "SyntheticFramesConfig":
        for low, high in (("min_len", "max_len"), ("min_frames", "max_frames")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} ({getattr(self, low)}) must be <= {high} ({getattr(self, high)})")
        return self


class SpokenDigitsConfig(Strict):
    """Connected spoken digits built from Free Spoken Digit Dataset clips (`{digit}_{speaker}_{index}.wav`): one
    speaker per string, clips joined with short random pauses, transcripts in words. Each split draws its clips from
    its own range of clip indices, so validation strings are built from recordings training never heard."""

    recordings: Optional[str] = Field(None, description="the recordings folder (default: the shared data's "
                                                        "fsdd/recordings)")
    train_indices: tuple[int, int] = Field((10, 49), description="clip indices training strings use (inclusive)")
    valid_indices: tuple[int, int] = Field((5, 9), description="clip indices validation strings use (inclusive)")
    test_indices: Optional[tuple[int, int]] = Field(None, description="clip indices of a test split (FSDD's 0-4 "
                                                                      "are kept aside for independent evaluation)")
    train_size: int = Field(4000, gt=0, description="training strings")
    valid_size: int = Field(300, gt=0, description="validation strings")
    test_size: int = Field(300, gt=0, description="test strings")
    min_digits: int = Field(1, gt=0, description="shortest string")
    max_digits: int = Field(7, gt=0, description="longest string")
    pause_ms: tuple[int, int] = Field((50, 250), description="pause between digits, uniform in this range")
    edge_ms: tuple[int, int] = Field((20, 100), description="silence before the first digit and after the last")
    speakers: Optional[list[str]] = Field(None, description="only these speakers (default: every speaker with all "
                                                            "ten digits in the index range)")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")

    @model_validator(mode="after")
    def _ranges(self) -> "SpokenDigitsConfig":
        for name in ("train_indices", "valid_indices", "test_indices", "pause_ms", "edge_ms"):
            low_high = getattr(self, name)
            if low_high is not None and not 0 <= low_high[0] <= low_high[1]:
                raise ValueError(f"{name}={list(low_high)}: expected [low, high] with 0 <= low <= high")
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) must be <= max_digits ({self.max_digits})")
        return self


class AudioFeaturesConfig(Strict):
    """Log-mel features (data/audio/features.py), computed for each file at its own sample rate."""

    n_mels: int = Field(40, gt=0, description="mel bands (the model's feature size)")
    win_ms: float = Field(25.0, gt=0, description="analysis window")
    hop_ms: float = Field(10.0, gt=0, description="frame step (100 frames a second)")
    f_min: float = Field(0.0, ge=0, description="lowest frequency")
    f_max: Optional[float] = Field(None, gt=0, description="highest frequency (default: each file's Nyquist); set "
                                                           "it below the lowest rate's Nyquist to mix rates")
    preemphasis: float = Field(0.97, ge=0, lt=1, description="high-frequency emphasis (0 = off)")
    log_floor: float = Field(1e-10, gt=0, description="power floor before the log (a full-scale sine peaks at "
                                                      "0.25): quiet recordings need a low one")

    @model_validator(mode="after")
    def _band(self) -> "AudioFeaturesConfig":
        if self.f_max is not None and self.f_max <= self.f_min:
            raise ValueError(f"need f_min < f_max, not f_min {self.f_min} Hz and f_max {self.f_max} Hz")
        return self


class SpecAugmentConfig(Strict):
    """SpecAugment (Park et al. 2019) in training only: bands and spans of the normalised features set to 0."""

    freq_masks: int = Field(2, ge=0, description="frequency masks per utterance")
    freq_width: int = Field(8, ge=0, description="widest frequency mask (bands)")
    time_masks: int = Field(2, ge=0, description="time masks per utterance")
    time_width: int = Field(20, ge=0, description="widest time mask (frames)")
    max_time_ratio: float = Field(0.2, ge=0, le=1, description="at most this share of an utterance is masked")


class FramesDataConfig(Strict):
    """Where frames-and-text pairs come from: audio manifests (`train`, `valid`, `test`: a `.tsv` of
    `path<TAB>transcript` with paths relative to it, or an LJSpeech `metadata.csv`), the built-in spoken digits
    (`digits`), or the built-in synthetic frames task (`synthetic`). Exactly one."""

    root: Optional[str] = Field(None, description="folder the manifests are relative to")
    train: Optional[str] = Field(None, description="training manifest: .tsv (path<TAB>text) or LJSpeech "
                                                   "metadata.csv")
    valid: Optional[str] = Field(None, description="validation manifest (absent: held out of train, valid_split)")
    valid_split: Optional[Union[int, float]] = valid_split_field("clips")
    split_seed: int = split_seed_field()
    test: Optional[str] = Field(None, description="test manifest, recorded with the run; never read in training")
    digits: Optional[SpokenDigitsConfig] = Field(None, description="connected spoken digits from FSDD clips")
    synthetic: Optional[SyntheticFramesConfig] = Field(None, description="generate the built-in frames task")
    features: AudioFeaturesConfig = Field(AudioFeaturesConfig(), description="log-mel features of audio")
    spec_augment: Optional[SpecAugmentConfig] = Field(None, description="SpecAugment masks in training (null: off)")
    transcripts: TranscriptForm = Field(
        "as_written", description="manifests: spoken = lower case, letters, digits and apostrophes, other marks a "
                                  "space (what a recogniser can hear; scored in the same form)")
    speed_perturb: Optional[list[float]] = Field(
        None, min_length=1, description="training clips also at these speeds (e.g. [0.9, 1.0, 1.1], Ko et al. "
                                        "2015): the training set once per factor; null: off")
    max_seconds: float = Field(60.0, gt=0, description="longest audio file read (longer ones are refused)")
    trim_db: Optional[float] = Field(None, gt=0, description="manifests: cut each clip's leading and trailing "
                                                             "frames this many dB under its loudest (text_to_speech "
                                                             "recipes: 40; null: keep them)")
    max_len: int = Field(1000, gt=0, description="training pairs longer than this (tokens or frames, either side) "
                                                 "are dropped")

    @model_validator(mode="after")
    def _one_source(self) -> "FramesDataConfig":
        given = [name for name in ("train", "digits", "synthetic") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of train (a manifest), digits or synthetic (got "
                             f"{', '.join(given) or 'none'})")
        check_held_out(self.valid, self.valid_split)
        if self.speed_perturb is not None and not all(0.5 <= f <= 2 for f in self.speed_perturb):
            raise ValueError(f"speed_perturb={self.speed_perturb}: every factor must be in [0.5, 2]")
        return self

    @property
    def is_audio(self) -> bool:
        return self.synthetic is None
