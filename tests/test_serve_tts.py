"""`seq2seq serve` on a text_to_speech run: POST /synthesize gives the WAV itself, or JSON with the alignment, and the
page's speech section plays it and draws the mel spectrogram and attention, on a real server (the tiny tone-"digit"
voice of test_synthesize.py)."""

from __future__ import annotations

import base64
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from helpers import toy_config
from test_serve import Server
from test_speech_to_text import clips  # noqa: F401 (a fixture)
from test_synthesize import voice  # noqa: F401 (a fixture)

from seq2seq import load
from seq2seq.config import ServeSettings
from seq2seq.data.audio.features import feature_frames
from seq2seq.data.audio.speech import feature_settings
from seq2seq.data.audio.wav import read_audio_bytes
from seq2seq.serving import create_app
from seq2seq.training.train import train

ITERS = 4                                   # Griffin-Lim iterations: few, to keep the tests quick


@pytest.fixture(scope="module")
def server(voice):  # noqa: F811
    with Server(create_app([str(voice)], ServeSettings(max_chars=120, max_wait_ms=5))) as s:
        yield s


@pytest.fixture(scope="module")
def synthesizer(voice):  # noqa: F811
    return load(voice)


def synthesize(server: Server, payload) -> httpx.Response:
    return httpx.post(f"{server.url}/synthesize", json=payload, timeout=60)


def test_the_reply_is_a_wav_at_the_runs_rate_as_long_as_the_frames_generated(server, synthesizer):
    reply = synthesize(server, {"text": "three five", "griffin_lim_iters": ITERS})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "audio/wav"
    audio = read_audio_bytes(reply.content, "reply")
    assert audio.sample_rate == synthesizer.vocab.sample_rate == 8000
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() > 0
    head = synthesizer.config.model.head
    frames = feature_frames(len(audio.samples), audio.sample_rate, feature_settings(synthesizer.config.data))
    assert frames % head.reduction == 0 and 0 < frames <= head.max_steps * head.reduction
    if reply.headers["x-stopped"] == "false":                          # ran to the step limit
        assert frames == head.max_steps * head.reduction


def test_the_alignment_json_has_the_shapes_of_the_api_for_the_same_text_and_seed(server, synthesizer):
    reply = synthesize(server, {"text": "one four", "griffin_lim_iters": ITERS, "seed": 3, "alignment": True})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json", reply.text
    got = reply.json()
    [want] = synthesizer.synthesize(["one four"], iterations=ITERS, seed=3)
    # the tiny voice never stops by itself: both run to max_steps, so their shapes agree (their values do not: the
    # prenet keeps its dropout at inference)
    assert got["stopped"] is want.stopped is False
    assert got["tokens"] == ["one", "four"] and got["text"] == "one four"
    assert (got["sample_rate"], got["reduction"], got["mel_step"]) == (8000, 2, 1)
    assert np.shape(got["mel"]) == want.mel.shape and got["frames"] == len(want.mel)
    assert np.shape(got["attention"]) == want.attention.shape == (len(want.mel) // 2, 2)
    assert all(abs(sum(row) - 1) < 1e-3 for row in got["attention"])
    audio = read_audio_bytes(base64.b64decode(got["wav_base64"]), "wav_base64")
    assert audio.sample_rate == 8000 and len(audio.samples) == len(want.samples)
    settings = feature_settings(synthesizer.config.data)
    assert feature_frames(len(audio.samples), 8000, settings) == got["frames"]
    assert got["seconds"] == pytest.approx(audio.seconds, abs=1e-4)
    assert got["griffin_lim_iters"] == ITERS and got["batched_with"] == 1


def test_concurrent_texts_each_get_their_own_synthesis_and_are_batched(voice):  # noqa: F811
    texts = ["one", "two three", "four five six", "seven", "eight nine"]
    with Server(create_app(voice, ServeSettings(max_wait_ms=300))) as s:
        with ThreadPoolExecutor(max_workers=len(texts)) as pool:
            replies = list(pool.map(lambda text: synthesize(s, {"text": text, "griffin_lim_iters": 2,
                                                                "alignment": True}), texts))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert [r.json()["tokens"] for r in replies] == [text.split() for text in texts]
    assert all(np.shape(r.json()["attention"])[1] == len(text.split()) for r, text in zip(replies, texts))
    assert max(r.json()["batched_with"] for r in replies) > 1, "concurrent texts should share batches"


@pytest.mark.parametrize("payload,needle", [
    ({"text": ""}, "text is empty: nothing to say"),
    ({"text": "   "}, "text is empty: nothing to say"),
    ({"text": "zebra"}, "text holds nothing the model knows"),
    ({"text": "one " * 31}, "text: 124 characters; at most 120 (--max-chars)"),
    ({"text": "one", "griffin_lim_iters": 201}, "less than or equal to 200"),
    ({"text": "one", "griffin_lim_iters": 0}, "greater than or equal to 1"),
    ({"texts": ["one"]}, "text"),
])
def test_bad_texts_and_limits_get_422_naming_the_problem(server, payload, needle):
    reply = synthesize(server, payload)
    assert reply.status_code == 422, reply.text
    assert needle in json.dumps(reply.json()["detail"]), reply.json()
    assert synthesize(server, {"text": "two", "griffin_lim_iters": 2}).status_code == 200       # still serving


def test_the_synthesizers_own_length_limit_applies_under_a_larger_max_chars(voice):  # noqa: F811
    with Server(create_app(voice)) as s:                                 # --max-chars 2000 by default
        reply = synthesize(s, {"text": "x" * 401})
        assert reply.status_code == 422
        assert reply.json()["detail"] == "text has 401 characters, more than the limit of 400: split it into sentences"
        assert httpx.get(f"{s.url}/info").json()["synthesis"]["max_chars"] == 400


def test_other_endpoints_are_refused_and_info_says_the_task_and_rate(server, voice):  # noqa: F811
    for path, needs in (("/translate", "a translation run"), ("/transcribe", "a speech_to_text run")):
        reply = httpx.post(f"{server.url}{path}", json={"texts": ["one"]})
        assert reply.status_code == 404
        assert reply.json()["detail"] == (f"this server serves a text_to_speech run ({voice.name}): POST JSON text to "
                                          f"/synthesize; {path} needs {needs}")
    info = httpx.get(f"{server.url}/info").json()
    assert info["task"] == "text_to_speech" and info["attention"] is True
    assert info["audio"]["sample_rate"] == 8000 and info["audio"]["reduction"] == 2
    assert info["synthesis"]["max_chars"] == 120 and info["vocab"]["source"] > 10
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert "/synthesize" in paths and "/translate" not in paths and "/transcribe" not in paths
    ok = paths["/synthesize"]["post"]["responses"]["200"]
    assert {"audio/wav", "application/json"} <= set(ok["content"]) and "x-stopped" in ok["headers"]


def test_synthesize_is_refused_on_a_translation_run(tmp_path):
    train(toy_config("copy", max_steps=2), tmp_path, verbose=False)
    with Server(create_app(tmp_path)) as s:
        reply = synthesize(s, {"text": "one"})
        assert reply.status_code == 404
        assert reply.json()["detail"] == (f"this server serves a translation run ({tmp_path.name}): POST JSON texts to "
                                          f"/translate; /synthesize needs a text_to_speech run")


def test_timeout_gets_504_and_the_request_log_gives_the_seconds_of_audio(voice, capfd):  # noqa: F811
    with Server(create_app(voice, ServeSettings(timeout_s=0.001))) as s:
        reply = synthesize(s, {"text": "three five seven", "griffin_lim_iters": 200})
        assert reply.status_code == 504 and "synthesis took longer" in reply.json()["detail"], reply.text
        assert httpx.get(f"{s.url}/health").status_code == 200
    with Server(create_app(voice, log_requests=True)) as s:
        audio = read_audio_bytes(synthesize(s, {"text": "six", "griffin_lim_iters": 2}).content, "reply")
        assert synthesize(s, {"text": ""}).status_code == 422
    err = capfd.readouterr().err
    assert re.search(rf"POST /synthesize 200 \d+\.\d ms {audio.seconds:.1f} s audio\n", err), err
    assert re.search(r"POST /synthesize 422 \d+\.\d ms\n", err), err


def test_the_speech_section_in_headless_chromium(server, chromium, tmp_path):
    page = chromium.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#speech-tab", state="visible")
    assert not page.is_visible("#text-tab") and not page.is_visible("#audio-tab")
    page.select_option("#gl", "8")
    page.fill("#say", "seven two")
    page.click("#speak")
    page.wait_for_function("""() => document.getElementById('voice').src.startsWith('blob:')
        && document.querySelectorAll('#salignment .token-row').length > 0""")
    labels = page.locator("#salignment .token-row .align-label").all_inner_texts()
    assert labels == ["seven", "two"]
    duration = page.evaluate("""() => new Promise((resolve) => { const audio = document.getElementById('voice');
        if (audio.readyState >= 1) resolve(audio.duration);
        else audio.addEventListener('loadedmetadata', () => resolve(audio.duration)); })""")
    played = bytes(page.evaluate("""async () => {       // the WAV the audio element plays
        const reply = await fetch(document.getElementById('voice').src);
        return Array.from(new Uint8Array(await reply.arrayBuffer())); }"""))
    assert duration > 0 and duration == pytest.approx(read_audio_bytes(played, "played").seconds, abs=0.01)
    widths = page.evaluate("() => Array.from(document.querySelectorAll('#salignment canvas'), (c) => c.width)")
    assert len(widths) == 3 and len(set(widths)) == 1                   # the mel and each token: one time axis
    drawn = page.evaluate("""() => { const c = document.getElementById('mel');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return new Set(Array.from({length: d.length / 4}, (_, i) => d[4 * i] + ',' + d[4 * i + 1])).size; }""")
    assert drawn > 20, "the mel spectrogram should be drawn in many colours"
    assert not page.is_visible("#mel-span")
    page.hover("#salignment .token-row >> nth=1")
    assert page.is_visible("#mel-span") and page.locator("#mel-span").bounding_box()["width"] >= 2
    page.fill("#say", "zebra")
    page.click("#speak")
    page.wait_for_selector("#serror:has-text('nothing the model knows')")
    assert page.locator("#salignment .token-row").count() == 0
    page.screenshot(path=str(os.environ.get("SEQ2SEQ_SCREENSHOT", tmp_path / "speech.png")))
