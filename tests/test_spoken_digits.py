"""The spoken digit generator (seq2seq.data.audio.spoken_digits): utterances are built from exactly the clips they
name, of one speaker, within the index range, with the drawn pauses, and are reproducible from the seed.

Most tests use a small folder of synthetic clips written here; one reads the shared FSDD copy and skips, saying
why, when it is absent.
"""

import wave

import numpy as np
import pytest

from seq2seq.data.audio.wav import read_wav
from seq2seq.data.audio.spoken_digits import CLIP_NAME, WORDS, generate, index_clips, shared_recordings
from seq2seq.errors import InputWarning, UserError

RATE = 8000
SPEAKERS = ("ann", "bob")
INDICES = (3, 10, 11, 12)              # 10 and 11 are drawn from; 3 and 12 lie outside


def clip_samples(digit, speaker, index, padding=0):
    """A distinct tone for every clip (its length and pitch depend on the name), `padding` zeros at both ends."""
    length = 300 + 7 * digit + 11 * index + (50 if speaker == "bob" else 0)
    tone = 0.3 * np.sin(np.arange(length) * (0.05 + 0.01 * digit + 0.002 * index))
    tone = np.round(tone * 32768) / 32768                      # exactly representable in 16 bits
    return np.concatenate([np.zeros(padding), tone, np.zeros(padding)])


def write_pcm16(path, samples, rate=RATE):
    """A 16-bit mono WAV file written by the standard library (fast: no fsync)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(samples * 32768).astype("<i2").tobytes())


def write_clips(folder, speakers=SPEAKERS, indices=INDICES, padding=0, skip=()):
    folder.mkdir(exist_ok=True)
    for speaker in speakers:
        for digit in range(10):
            for index in indices:
                if (speaker, digit, index) not in skip:
                    write_pcm16(folder / f"{digit}_{speaker}_{index}.wav", clip_samples(digit, speaker, index, padding))
    return folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = write_clips(tmp_path_factory.mktemp("spoken") / "clips")
    (folder / "README.txt").write_text("not a clip")
    (folder / "x_ann_3.wav").write_bytes(b"not a clip either")
    return folder


def parse(name):
    digit, speaker, index = CLIP_NAME.match(name).groups()
    return int(digit), speaker, int(index)


def test_index_clips_finds_the_named_files_sorted_by_index(clips):
    index = index_clips(clips)
    assert set(index) == {(speaker, digit) for speaker in SPEAKERS for digit in range(10)}
    assert [i for i, _ in index["bob", 7]] == list(INDICES)
    assert all(path.name == f"7_bob_{i}.wav" for i, path in index["bob", 7])


def test_index_clips_refuses_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(UserError, match=f"^spoken digit folder not found: {tmp_path / 'nope'}$"):
        index_clips(tmp_path / "nope")
    (tmp_path / "other.wav").write_bytes(b"")
    with pytest.raises(UserError, match=f"^{tmp_path}: no spoken digit clips"):
        index_clips(tmp_path)


def test_utterances_are_the_named_clips_joined_by_the_drawn_pauses(clips):
    pause, edge = (50, 250), (20, 100)                          # ms
    utterances = generate(clips, 40, range(10, 12), seed=1, min_digits=2, max_digits=5, pause_ms=pause,
                          edge_ms=edge, trim=False)
    for u in utterances:
        assert u.sample_rate == RATE and u.samples.dtype == np.float32
        assert len(u.clips) == len(u.spans) == len(u.text.split()) and 2 <= len(u.clips) <= 5
        for name, word, (start, end) in zip(u.clips, u.text.split(), u.spans):
            digit, speaker, index = parse(name)
            assert (WORDS[digit], speaker, index in (10, 11)) == (word, u.speaker, True)
            np.testing.assert_array_equal(u.samples[start:end], read_wav(clips / name).samples)
        gaps = gaps_of(u)
        assert all(edge[0] * 8 <= g <= edge[1] * 8 for g in (gaps[0], gaps[-1]))     # 8 samples a ms
        assert all(pause[0] * 8 <= g <= pause[1] * 8 for g in gaps[1:-1])
        assert len(u.samples) == sum(end - start for start, end in u.spans) + sum(gaps)
        assert not np.any(outside_spans(u))                      # the pauses are silent


def gaps_of(u):
    """The silent stretches: before the first clip, between clips, after the last (samples)."""
    bounds = [0, *[b for span in u.spans for b in span], len(u.samples)]
    return [bounds[i + 1] - bounds[i] for i in range(0, len(bounds), 2)]


def outside_spans(u):
    mask = np.ones(len(u.samples), dtype=bool)
    for start, end in u.spans:
        mask[start:end] = False
    return u.samples[mask]


def test_draws_cover_the_allowed_choices_and_nothing_else(clips):
    utterances = generate(clips, 200, [10, 11], seed=2, min_digits=2, max_digits=4)
    names = [parse(name) for u in utterances for name in u.clips]
    assert {len(u.clips) for u in utterances} == {2, 3, 4}
    assert {index for _, _, index in names} == {10, 11}
    assert {digit for digit, _, _ in names} == set(range(10))
    assert {u.speaker for u in utterances} == set(SPEAKERS)
    assert all({speaker for _, speaker, _ in map(parse, u.clips)} == {u.speaker} for u in utterances)


def test_the_same_seed_gives_the_same_utterances_and_another_seed_others(clips):
    def draw(seed):
        return generate(clips, 10, INDICES, seed=seed)
    first, again, other = draw(7), draw(7), draw(8)
    assert [(u.text, u.speaker, u.clips, u.spans) for u in first] == [(u.text, u.speaker, u.clips, u.spans)
                                                                        for u in again]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(first, again))
    assert [u.text for u in first] != [u.text for u in other]


def test_clips_are_trimmed_of_their_silent_ends(tmp_path):
    folder = write_clips(tmp_path / "padded", indices=(10, 11), padding=800)   # 100 ms of silence at both ends
    for trimmed, whole in zip(generate(folder, 5, range(10, 12), seed=3),
                              generate(folder, 5, range(10, 12), seed=3, trim=False)):
        assert trimmed.text == whole.text and trimmed.clips == whole.clips
        for name, (start, end), (whole_start, whole_end) in zip(trimmed.clips, trimmed.spans, whole.spans):
            tone = clip_samples(*parse(name))
            assert whole_end - whole_start == len(tone) + 1600
            assert len(tone) < end - start <= len(tone) + 2 * 2 * 80    # the tone and at most 20 ms each side
            first = start + int(np.flatnonzero(trimmed.samples[start:end])[0]) - 1   # the tone begins with 0
            np.testing.assert_array_equal(trimmed.samples[first:first + len(tone)], tone)


def test_speakers_can_be_chosen(clips):
    assert {u.speaker for u in generate(clips, 20, range(10, 12), seed=0, speakers=["bob"])} == {"bob"}
    with pytest.raises(UserError, match=r"no clips of speaker carol \(found: ann, bob\)"):
        generate(clips, 1, range(10, 12), seed=0, speakers=["carol"])


def test_a_speaker_missing_a_digit_in_the_range_is_left_out_or_refused(tmp_path):
    folder = write_clips(tmp_path / "gap", indices=range(10, 12), skip={("bob", 3, 10), ("bob", 3, 11)})
    with pytest.warns(InputWarning, match=r"speakers without clips of every digit with an index in "
                                          r"range\(10, 12\): bob \(no three\); left out"):
        utterances = generate(folder, 20, range(10, 12), seed=0)
    assert {u.speaker for u in utterances} == {"ann"}
    with pytest.raises(UserError, match=r"bob \(no three\)$"):
        generate(folder, 1, range(10, 12), seed=0, speakers=["bob"])
    with pytest.raises(UserError, match=r"index in range\(20, 30\): ann \(no zero, one, .*nine\); bob"):
        generate(folder, 1, range(20, 30), seed=0)


def test_clips_of_another_sample_rate_are_refused(tmp_path):
    folder = write_clips(tmp_path / "rates", speakers=("ann",), indices=[10])
    write_pcm16(folder / "4_ann_10.wav", clip_samples(4, "ann", 10), rate=16000)
    with pytest.raises(UserError, match=r"\.wav: (16000|8000) Hz, but [0-9]_ann_10\.wav is (8000|16000) Hz") as caught:
        generate(folder, 30, [10], seed=0, min_digits=3)
    assert "4_ann_10.wav" in str(caught.value)


@pytest.mark.parametrize("arguments, message", [
    ({"min_digits": 0}, "need 1 <= min_digits <= max_digits"),
    ({"min_digits": 5, "max_digits": 4}, "need 1 <= min_digits <= max_digits"),
    ({"pause_ms": (300, 200)}, "pause_ms must be"),
    ({"indices": []}, "no clip indices given"),
])
def test_bad_arguments_are_user_errors(clips, arguments, message):
    with pytest.raises(UserError, match=message):
        generate(clips, **{"count": 1, "indices": range(10, 12), "seed": 0, **arguments})


def test_the_shared_fsdd_recordings_make_utterances():
    folder = shared_recordings()
    if folder is None:
        pytest.skip("../shared/data/fsdd/recordings not found (set SEQ2SEQ_SHARED_DATA to its parent)")
    utterances = generate(folder, 4, range(10, 12), seed=0)
    for u in utterances:
        assert u.sample_rate == 8000 and 1 <= len(u.clips) <= 7
        assert all(parse(name)[1:] in {(u.speaker, 10), (u.speaker, 11)} for name in u.clips)
        assert [WORDS[parse(name)[0]] for name in u.clips] == u.text.split()
        assert 0 < np.abs(u.samples).max() <= 1 and u.samples.dtype == np.float32
