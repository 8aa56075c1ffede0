"""Word and character error rates: corpus-level edits over reference length, on pairs worked out by hand."""

import pytest

from seq2seq.metrics import char_error_rate, edit_distance, word_error_rate


@pytest.mark.parametrize("a,b,distance", [
    ("kitten", "sitting", 3),          # k→s, e→i, +g
    ("flaw", "lawn", 2),               # -f, +n
    ("", "abc", 3), ("abc", "", 3), ("", "", 0), ("same", "same", 0),
])
def test_edit_distance_on_known_pairs(a, b, distance):
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_word_error_rate_counts_substitutions_deletions_and_insertions():
    # reference 6 words; "sat"→"sit" (substitution) and the second "the" missing (deletion): 2 / 6
    assert word_error_rate(["the cat sit on mat"], ["the cat sat on the mat"]) == 33.33
    # two insertions against a one-word reference: above 100%
    assert word_error_rate(["a b c"], ["a"]) == 200.0
    assert word_error_rate(["hello  world "], ["hello world"]) == 0.0     # words split on any whitespace


def test_error_rates_are_pooled_over_the_corpus_not_averaged_per_sentence():
    # 1 edit of 1 word and 0 edits of 4 words: 1/5 = 20% (the mean of per-sentence rates would be 50%)
    assert word_error_rate(["b", "w x y z"], ["a", "w x y z"]) == 20.0


def test_character_error_rate_counts_spaces_as_characters():
    assert char_error_rate(["sitting"], ["kitten"]) == 50.0                # 3 edits / 6 characters
    assert char_error_rate(["ab"], ["a b"]) == 33.33                        # the missing space is 1 of 3
    assert char_error_rate(["abc", "xy"], ["abd", "xyz"]) == round(100 * 2 / 6, 2)


def test_empty_references():
    assert word_error_rate([""], [""]) == 0.0 and char_error_rate([""], [""]) == 0.0
    assert word_error_rate(["extra"], [""]) == 100.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        word_error_rate(["a", "b"], ["a"])
