"""`seq2seq.metrics.score` against values computed here, independently of sacreBLEU.

The sentences are lower-case words separated by single spaces, so sacreBLEU's default tokenizer (13a) splits them
on the spaces and nothing else, and every n-gram order has at least one match, so BLEU's smoothing never applies:
BLEU is then exactly the textbook corpus formula below. chrF is the character 6-gram F-score with beta 2 (spaces
removed, precision and recall averaged over the orders), as Popović (2015) defines it.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from seq2seq.metrics import score

HYPOTHESES = ["the cat sat on a mat today", "a dog ran in the park"]
REFERENCES = ["the cat sat on the mat today", "the dog ran fast in the big park"]


def ngrams(items, n: int) -> Counter:
    return Counter(tuple(items[i : i + n]) for i in range(len(items) - n + 1))


def textbook_bleu(hypotheses, references, max_order: int = 4) -> float:
    """Corpus BLEU (Papineni et al. 2002): clipped n-gram precisions summed over the corpus, their geometric mean,
    times the brevity penalty exp(1 - r/c) when the hypotheses are shorter than the references."""
    matches, totals = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for h, r in zip(hypotheses, references):
        h, r = h.split(), r.split()
        hyp_len, ref_len = hyp_len + len(h), ref_len + len(r)
        for n in range(1, max_order + 1):
            hc, rc = ngrams(h, n), ngrams(r, n)
            matches[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
            totals[n - 1] += sum(hc.values())
    assert all(matches), "the textbook formula needs a match at every order (no smoothing)"
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_order
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return 100 * brevity * math.exp(log_precision)


def textbook_chrf(hypotheses, references, order: int = 6, beta: float = 2.0) -> float:
    """Corpus chrF: character n-gram statistics summed over the corpus (whitespace removed), precision and recall
    averaged over the orders 1..6, then F_beta."""
    hyp_total, ref_total, match_total = [0] * order, [0] * order, [0] * order
    for h, r in zip(hypotheses, references):
        h, r = "".join(h.split()), "".join(r.split())
        for n in range(1, order + 1):
            hc, rc = ngrams(h, n), ngrams(r, n)
            hyp_total[n - 1] += sum(hc.values())
            ref_total[n - 1] += sum(rc.values())
            match_total[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
    precision = sum(m / h for m, h in zip(match_total, hyp_total)) / order
    recall = sum(m / r for m, r in zip(match_total, ref_total)) / order
    return 100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def test_bleu_and_chrf_equal_the_textbook_formulas_on_a_known_corpus():
    want_bleu = textbook_bleu(HYPOTHESES, REFERENCES)
    want_chrf = textbook_chrf(HYPOTHESES, REFERENCES)
    # the case exercises the brevity penalty (13 hypothesis words for 15 reference words) and partial matches
    assert 20 < want_bleu < 60 and 30 < want_chrf < 90
    s = score(HYPOTHESES, REFERENCES)
    assert s.bleu == pytest.approx(want_bleu, abs=0.006)
    assert s.chrf == pytest.approx(want_chrf, abs=0.006)
    assert s.exact_match == 0.0 and s.sentences == 2
    assert "hyp_len = 13" in s.bleu_detail and "ref_len = 15" in s.bleu_detail


def test_single_sentence_values():
    # one sentence: 7 words against 7, one substitution in the middle
    hyp, ref = "the cat sat on a mat today", "the cat sat on the mat today"
    # precisions 6/7, 4/6, 2/5, 1/4 (counted by hand), no brevity penalty (equal lengths)
    by_hand = 100 * math.exp((math.log(6 / 7) + math.log(4 / 6) + math.log(2 / 5) + math.log(1 / 4)) / 4)
    assert textbook_bleu([hyp], [ref]) == pytest.approx(by_hand)
    assert score([hyp], [ref]).bleu == pytest.approx(by_hand, abs=0.006)


def test_identical_outputs_score_100_and_disjoint_outputs_score_0():
    same = score(REFERENCES, REFERENCES)
    assert (same.bleu, same.chrf, same.exact_match) == (100.0, 100.0, 100.0)
    half = score([REFERENCES[0], "x y z"], REFERENCES)
    assert half.exact_match == 50.0
    disjoint = score(["xq zv wk"], ["the cat sat"])
    assert disjoint.bleu == 0.0 and disjoint.chrf == 0.0 and disjoint.exact_match == 0.0


def test_signatures_name_the_default_settings():
    s = score(HYPOTHESES, REFERENCES)
    assert "tok:13a" in s.bleu_signature and "smooth:exp" in s.bleu_signature and "nrefs:1" in s.bleu_signature
    assert "nc:6" in s.chrf_signature and "nw:0" in s.chrf_signature


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        score(["a", "b"], ["a"])
