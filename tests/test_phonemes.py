"""Text as phonemes for synthesis: the normaliser writes numbers, money, years and abbreviations as words; the
phonemiser reads the CMU dictionary with stress, punctuation as pauses, possessives, spelled acronyms, and asks a
G2P model about the rest; the G2P recipe (a text→text run on a pronouncing dictionary) learns a toy lexicon; a
text_to_speech run on phonemes keeps its G2P model and speaks words it never saw."""

import random

import pytest
from test_speech_to_text import clips  # noqa: F401  (the module fixture of tone "digit" clips)
from test_synthesize import voice_config

from seq2seq import load
from seq2seq.config import validate
from seq2seq.data.text.lexicon import read_lexicon
from seq2seq.data.text.normalise import normalise, number_words, ordinal_words, year_words
from seq2seq.data.text.phonemes import Phonemiser
from seq2seq.data.text.tokenizers import PhonemeTokenizer, load_tokenizers, save_tokenizers
from seq2seq.errors import UserError
from seq2seq.tasks.g2p import load_g2p
from seq2seq.training.train import train

LEXICON = {"hello": ("HH", "AH0", "L", "OW1"), "world": ("W", "ER1", "L", "D"), "cat": ("K", "AE1", "T"),
           "bus": ("B", "AH1", "S")}


@pytest.mark.parametrize("text, spoken", [
    ("Dr. Smith paid $3.50 on May 1st, 1865.",
     "Doctor Smith paid three dollars fifty cents on May first, eighteen sixty-five."),
    ("In 2005, 12,500 men; 45% of 101.", "In two thousand five, twelve thousand five hundred men; forty-five "
                                        "percent of one hundred one."),
    ("the 1820s & £2.01", "the eighteen twenties and two pounds one penny"),
    ("pi is 3.14, the 22nd", "pi is three point one four, the twenty-second"),
    ("Caxton\u2019s café — naïve", "Caxton's cafe — naive"),
])
def test_the_normaliser_writes_numbers_money_years_and_abbreviations_as_words(text, spoken):
    assert normalise(text) == spoken


def test_number_words_ordinals_and_years():
    assert number_words(0) == "zero" and number_words(1_000_001) == "one million one"
    assert ordinal_words(12) == "twelfth" and ordinal_words(40) == "fortieth" and ordinal_words(103) == \
        "one hundred third"
    assert year_words(1900) == "nineteen hundred" and year_words(1907) == "nineteen oh seven"


def test_dictionary_words_keep_their_stress_and_punctuation_reads_as_pauses():
    p = Phonemiser(LEXICON)
    assert p.symbols("Hello, world!") == ["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D", "!"]
    assert p.symbols('"Hello"  -- world; cat') == ["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D", ",", "K",
                                                   "AE1", "T"]
    assert p.symbols("cat world") == ["K", "AE1", "T", "_", "W", "ER1", "L", "D"]


def test_possessives_follow_the_last_sound_and_short_capitals_are_spelled():
    p = Phonemiser(LEXICON)
    assert p.symbols("cat's bus's world's") == ["K", "AE1", "T", "S", "_", "B", "AH1", "S", "IH0", "Z", "_",
                                                "W", "ER1", "L", "D", "Z"]
    assert p.symbols("BBC") == ["B", "IY1", "B", "IY1", "S", "IY1"]


def test_unknown_words_go_to_the_g2p_model_once_per_word_in_one_batch():
    asked = []

    def g2p(words):
        asked.append(list(words))
        return [["Z", "OW1"] for _ in words]

    p = Phonemiser(LEXICON, g2p)
    p.prepare(["zog hello", "Zog, blip!"])
    assert asked == [["blip", "zog"]]
    assert p.symbols("hello zog, blip") == ["HH", "AH0", "L", "OW1", "_", "Z", "OW1", ",", "Z", "OW1"]
    assert asked == [["blip", "zog"]]                      # remembered
    assert Phonemiser(LEXICON).symbols("zog") == ["Z", "IY1", "OW1", "JH", "IY1"]   # no model: spelled


def test_the_cmu_dictionary_and_the_phoneme_tokenizer_round_trip(tmp_path):
    tok = PhonemeTokenizer("cmudict")
    ids = tok.encode("Printing, in 1476.")
    assert tok.decode(ids).startswith("P R IH1 N T IH0 NG , IH0 N _ F AO1 R T IY1 N _")
    assert 1 not in ids and tok.unknown("zxqv") == []
    save_tokenizers(tmp_path, tok, tok)
    again, _ = load_tokenizers(tmp_path)
    assert isinstance(again, PhonemeTokenizer) and again.encode("Printing, in 1476.") == ids


def toy_lexicon(path, words: int = 500, seed: int = 0) -> dict[str, str]:
    """A regular spelling: each letter one phoneme (vowels stressed), words of 2-6 letters; written as a .dict."""
    sounds = {"b": "B", "d": "D", "k": "K", "m": "M", "s": "S", "t": "T", "a": "AA1", "i": "IY1", "o": "OW1",
              "u": "UW1"}
    rng = random.Random(seed)
    entries = {}
    while len(entries) < words:
        word = "".join(rng.choice("bdkmstaiou") for _ in range(rng.randint(2, 6)))
        entries[word] = " ".join(sounds[c] for c in word)
    path.write_text("".join(f"{w.upper()}  {p}\n" for w, p in sorted(entries.items())))
    return entries


@pytest.fixture(scope="module")
def g2p_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("g2p")
    toy_lexicon(folder / "toy.dict")
    config = validate({
        "data": {"root": str(folder), "train": "toy.dict", "valid_split": 50, "max_len": 10},
        "tokenizer": {"type": "whitespace", "joint": False},
        "model": {"embedding_size": 32, "encoder": {"hidden_size": 48, "dropout": 0.0},
                  "decoder": {"attention": "luong", "score": "general", "hidden_size": 64, "dropout": 0.0}},
        "train": {"epochs": 40, "batch_sentences": 32, "lr": 5e-3, "valid_every": 50, "valid_metric": "wer",
                  "stop_at": 0.0, "patience": 4, "attention_plots": 0, "threads": 1},
        "decode": {"beam_size": 1, "batch_size": 100},
    })
    run = folder / "run"
    train(config, run, verbose=False)
    return run


def test_the_g2p_recipe_learns_a_toy_lexicon_and_reads_words_it_never_saw(g2p_run):
    corpus = read_lexicon(None, str(g2p_run.parent / "toy.dict"))
    assert corpus.src[0] == " ".join(corpus.src[0].replace(" ", "")) and corpus.tgt[0].split()[0].isupper()
    g2p = load_g2p(g2p_run)
    unseen = ["modusta", "tikab", "sumo"]                  # 7 letters: longer than any training word
    assert g2p(unseen) == [["M", "OW1", "D", "UW1", "S", "T", "AA1"], ["T", "IY1", "K", "AA1", "B"],
                           ["S", "UW1", "M", "OW1"]]


@pytest.fixture(scope="module")
def phoneme_voice(clips, g2p_run, tmp_path_factory):  # noqa: F811
    run = tmp_path_factory.mktemp("phonemes") / "voice"
    config = voice_config(clips, {"type": "phonemes", "g2p": str(g2p_run)}, max_steps=2, valid_every=2,
                          attention_plots=0)
    train(config, run, verbose=False)
    return run


def test_a_phoneme_voice_keeps_its_g2p_model_and_speaks_unseen_words(phoneme_voice):
    run = phoneme_voice
    assert (run / "tokenizer" / "g2p" / "best.safetensors").is_file()
    voice = load(run)
    [s] = voice.synthesize(["Three tikab, one."], iterations=2)
    assert s.tokens == ["TH", "R", "IY1", "_", "T", "IY1", "K", "AA1", "B", ",", "W", "AH1", "N", "."]
    assert s.samples.size > 0 and s.attention.shape[1] == len(s.tokens)


def test_phonemes_are_refused_where_text_is_not_spoken():
    with pytest.raises(UserError, match="tokenizer.type='phonemes' does not apply to task translation"):
        validate({"data": {"train": "cmudict"}, "tokenizer": {"type": "phonemes"}})
    with pytest.raises(UserError, match="g2p=runs/g2p is the phonemiser's model; it needs type: phonemes"):
        validate({"data": {"train": "cmudict"}, "tokenizer": {"type": "whitespace", "g2p": "runs/g2p"}})


def test_seq2seq_vocab_shows_the_phonemes_a_sentence_becomes_with_its_g2p_model(phoneme_voice, capsys):
    from seq2seq.cli import main

    run = phoneme_voice
    capsys.readouterr()
    assert main(["vocab", str(run)]) == 0
    assert "(ARPAbet phonemes, unknown words through its G2P model)" in capsys.readouterr().out
    assert main(["vocab", str(run), "--segment", "one tikab"]) == 0
    pieces = capsys.readouterr().out.splitlines()[2].split()
    assert pieces == ["piece", "W", "AH1", "N", "_", "T", "IY1", "K", "AA1", "B"]
