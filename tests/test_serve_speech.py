"""`seq2seq serve` on a speech_to_text run: POST /transcribe with a WAV body or a multipart upload of one, and the
page's audio section, on a real server (a tiny tone-"digit" recogniser, as in test_speech_to_text.py)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from helpers import system_chromium
from test_serve import Server
from test_speech_to_text import RATE, clips, speech_config, tone, write_wav16  # noqa: F401 (clips: a fixture)

from seq2seq import load
from seq2seq.config import ServeSettings
from seq2seq.data.audio.wav import read_audio_bytes, wav_bytes
from seq2seq.serving import create_app
from seq2seq.serving.routes import downsampled
from seq2seq.training.train import train

MAX_SECONDS = 2.0


@pytest.fixture(scope="module")
def speech_run(clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("stt") / "run"
    config = speech_config(clips, max_steps=240)
    config.data.max_seconds = MAX_SECONDS
    train(config, run, verbose=False)
    return run


@pytest.fixture(scope="module")
def server(speech_run):
    settings = ServeSettings(max_beam=6, max_body_bytes=60_000, max_wait_ms=30)
    with Server(create_app([str(speech_run)], settings)) as s:      # a list, as `seq2seq serve` passes it
        yield s


@pytest.fixture(scope="module")
def recogniser(speech_run):
    return load(speech_run)


def utterance(*digits: int, gap: int = 300) -> np.ndarray:
    return np.concatenate([np.zeros(gap)] + [np.concatenate([tone(d, 8), np.zeros(gap)]) for d in digits])


@pytest.fixture(scope="module")
def wavs(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("uploads")
    paths = []
    for number, digits in enumerate([(3, 1), (7,), (2, 9, 4), (5, 5), (8, 0, 6), (1,)]):
        paths.append(folder / f"u{number}.wav")
        write_wav16(paths[-1], utterance(*digits))
    return paths


def transcribe(server: Server, body: bytes, content_type: str = "audio/wav", **params) -> httpx.Response:
    return httpx.post(f"{server.url}/transcribe", content=body, params=params,
                      headers={"content-type": content_type}, timeout=60)


def test_transcripts_match_the_api_for_every_wav_content_type_and_beam(server, recogniser, wavs):
    for beam, kind in ((1, "audio/wav"), (3, "audio/x-wav"), (3, "application/octet-stream")):
        [want] = recogniser.transcribe([wavs[0]], beam_size=beam)
        reply = transcribe(server, wavs[0].read_bytes(), kind, beam_size=beam)
        assert reply.status_code == 200, reply.text
        got = reply.json()
        assert got["text"] == want.text and got["tokens"] == want.tokens and abs(got["score"] - want.score) < 1e-4
        assert (got["frames"], got["reduction"], got["beam_size"]) == (want.frames, want.reduction, beam)
        assert got["seconds"] == pytest.approx(len(utterance(3, 1)) / RATE, abs=1e-3)
        assert "attention" not in got and "spectrogram" not in got
    assert "three" in want.text or "one" in want.text, want.text        # the run did learn something


def test_attention_comes_with_the_spectrogram_on_one_time_axis(server, recogniser, wavs):
    [want] = recogniser.transcribe([wavs[2]], beam_size=2)
    got = transcribe(server, wavs[2].read_bytes(), beam_size=2, attention="true").json()
    states = -(-got["frames"] // got["reduction"])
    assert len(got["attention"]) == len(got["tokens"]) == len(want.tokens)
    assert all(len(row) == states and abs(sum(row) - 1) < 1e-3 for row in got["attention"])
    assert np.allclose(got["attention"], want.attention, atol=1e-4)
    mel = recogniser.log_mel(wavs[2])                                   # short: one row per frame
    assert got["spectrogram_step"] == 1 and np.allclose(got["spectrogram"], mel.numpy(), atol=0.006)


def test_a_long_spectrogram_is_averaged_down():
    mel = torch.arange(10.0).reshape(5, 2)
    assert downsampled(mel, 2) == [[1.0, 2.0], [5.0, 6.0], [8.0, 9.0]]


def test_concurrent_uploads_each_get_their_own_transcript_and_are_batched(server, recogniser, wavs):
    want = [t.text for t in recogniser.transcribe(wavs, beam_size=1)]
    with ThreadPoolExecutor(max_workers=len(wavs)) as pool:
        replies = list(pool.map(lambda path: transcribe(server, path.read_bytes(), beam_size=1), wavs * 2))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert [r.json()["text"] for r in replies] == want * 2
    assert max(r.json()["batched_with"] for r in replies) > 1, "concurrent uploads should share batches"


@pytest.mark.parametrize("body,kind,params,status,needle", [
    (b"hello", "audio/wav", {}, 422, "request body: not a WAV file (no RIFF/WAVE header)"),
    (b"", "audio/wav", {}, 422, "request body: not a WAV file"),
    (b"RIFF\0\0\0\0WAVEjunk", "audio/wav", {}, 422, "request body: not a WAV file (no fmt chunk)"),
    ("long", "audio/wav", {}, 422, "2.5 s of audio, longer than the limit of 2 s"),
    ("short", "audio/wav", {"beam_size": 7}, 422, "beam_size: 7; at most 6 (--max-beam)"),
    ("short", "audio/wav", {"beam_size": 0}, 422, "greater than or equal to 1"),
    ("short", "multipart/form-data; boundary=x", {}, 422, "the multipart upload could not be read: Invalid multipart"),
    (b"", "multipart/form-data; boundary=x", {}, 422, "the multipart upload holds no file"),
    ("short", "multipart/mixed; boundary=x", {}, 415, "or a multipart/form-data upload of one, not multipart/mixed"),
    ("short", "application/json", {}, 415, "must be a WAV file (content-type audio/wav"),
    ("big", "audio/wav", {}, 413, "over this server's limit of 60,000 bytes (--max-body-bytes)"),
])
def test_bad_uploads_and_limits_get_4xx_naming_the_problem(server, body, kind, params, status, needle):
    samples = {"long": np.zeros(int(2.5 * RATE)), "short": utterance(4), "big": np.zeros(31_000)}
    body = wav_bytes(samples[body], RATE) if isinstance(body, str) else body
    reply = transcribe(server, body, kind, **params)
    assert reply.status_code == status, reply.text
    assert needle in json.dumps(reply.json()["detail"]), reply.json()
    assert transcribe(server, wav_bytes(utterance(4), RATE)).status_code == 200       # still serving


def upload(server: Server, files, **params) -> httpx.Response:
    return httpx.post(f"{server.url}/transcribe", files=files, params=params, timeout=60)


def test_a_multipart_upload_gives_what_the_raw_body_gives(server, wavs):
    data = wavs[2].read_bytes()
    want = transcribe(server, data, beam_size=2, attention="true")
    assert want.status_code == 200, want.text
    for files in ({"file": ("a.wav", data, "audio/wav")}, {"recording": ("a.wav", data, "application/octet-stream")},
                  [("note", (None, "ignored")), ("wav", ("a.wav", data))]):     # any field name, any order, untyped
        got = upload(server, files, beam_size=2, attention="true")
        assert got.status_code == 200, got.text
        assert got.json() == {**want.json(), "batched_with": got.json()["batched_with"]}


@pytest.mark.parametrize("case,status,needle", [
    ("no file", 422, "the multipart upload holds no file: send the WAV file as a file part"),
    ("two files", 422, "one WAV file per request, not several"),
    ("text file", 415, "the uploaded file must be a WAV file (content-type audio/wav or application/octet-stream), "
                       "not text/plain"),
    ("big", 413, "over this server's limit of 60,000 bytes (--max-body-bytes)"),
])
def test_bad_multipart_uploads_get_4xx_naming_the_problem(server, case, status, needle):
    short = wav_bytes(utterance(4), RATE)
    files = {"no file": {"note": (None, "no file here")},
             "two files": [("file", ("a.wav", short, "audio/wav")), ("more", ("b.wav", short, "audio/wav"))],
             "text file": {"file": ("a.txt", short, "text/plain")},
             "big": {"file": ("a.wav", wav_bytes(np.zeros(31_000), RATE), "audio/wav")}}[case]
    reply = upload(server, files)
    assert reply.status_code == status, reply.text
    assert needle in reply.json()["detail"], reply.json()
    assert upload(server, {"file": ("a.wav", short, "audio/wav")}).status_code == 200       # still serving


@pytest.mark.parametrize("body", [b"hello", b"RIFF\0\0\0\0WAVEjunk", "long"])
def test_a_bad_wav_in_a_multipart_upload_gets_what_the_raw_body_gets(server, body):
    body = wav_bytes(np.zeros(int(2.5 * RATE)), RATE) if body == "long" else body
    want = transcribe(server, body)
    got = upload(server, {"file": ("a.wav", body, "audio/wav")})
    assert want.status_code == got.status_code == 422, (want.text, got.text)
    assert got.json() == want.json()


def test_a_browser_form_with_no_file_chosen_is_told_so(server):
    body = (b'--x\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
            b'Content-Type: application/octet-stream\r\n\r\n\r\n--x--\r\n')
    reply = transcribe(server, body, "multipart/form-data; boundary=x")
    assert reply.status_code == 422 and "the multipart upload holds no file" in reply.json()["detail"], reply.text


def test_translate_is_refused_on_a_speech_run_and_info_says_the_task(server, speech_run):
    reply = httpx.post(f"{server.url}/translate", json={"texts": ["1 2"]})
    assert reply.status_code == 404
    assert reply.json()["detail"] == (f"this server serves a speech_to_text run ({speech_run.name}): POST a WAV file to "
                                      f"/transcribe; /translate needs a translation run")
    info = httpx.get(f"{server.url}/info").json()
    assert info["task"] == "speech_to_text" and info["attention"] is True
    assert info["audio"] == {**info["audio"], "max_seconds": MAX_SECONDS, "reduction": 4}
    assert info["audio"]["features"]["n_mels"] == 20 and info["serve"]["max_beam"] == 6
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert "/transcribe" in paths and "/translate" not in paths
    content = paths["/transcribe"]["post"]["requestBody"]["content"]
    assert "audio/wav" in content
    assert content["multipart/form-data"]["schema"]["properties"]["file"] == {
        **content["multipart/form-data"]["schema"]["properties"]["file"], "type": "string", "format": "binary"}


def test_timeout_gets_504_and_the_server_keeps_serving(speech_run, wavs):
    with Server(create_app(speech_run, ServeSettings(timeout_s=0.001))) as s:
        reply = transcribe(s, wavs[2].read_bytes(), beam_size=5)
        assert reply.status_code == 504 and "transcription took longer" in reply.json()["detail"], reply.text
        assert "--timeout" in reply.json()["detail"]
        assert httpx.get(f"{s.url}/health").status_code == 200


def test_the_request_log_gives_the_seconds_of_audio(speech_run, wavs, capfd):
    with Server(create_app(speech_run, log_requests=True)) as s:
        assert transcribe(s, wavs[0].read_bytes()).status_code == 200
        assert transcribe(s, b"junk").status_code == 422
    err = capfd.readouterr().err
    assert re.search(r"POST /transcribe 200 \d+\.\d ms 0\.3 s audio\n", err), err
    assert re.search(r"POST /transcribe 422 \d+\.\d ms\n", err), err


def test_the_audio_section_in_headless_chromium(server, wavs, chromium, tmp_path):
    page = chromium.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#audio-tab", state="visible")
    assert not page.is_visible("#text-tab")
    page.select_option("#abeam", "2")
    page.set_input_files("#wav", str(wavs[2]))
    page.wait_for_selector(".alignment .token-row")
    reply = transcribe(server, wavs[2].read_bytes(), beam_size=2, attention="true").json()
    assert page.inner_text("#transcript") == reply["text"]
    assert page.locator(".alignment .token-row").count() == len(reply["tokens"])
    drawn = page.evaluate("""() => { const c = document.getElementById('spectrogram');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return new Set(Array.from({length: d.length / 4}, (_, i) => d[4 * i] + ',' + d[4 * i + 1])).size; }""")
    assert drawn > 20, "the spectrogram should be drawn in many colours"
    assert not page.is_visible("#span")
    page.hover(".alignment .token-row >> nth=0")
    assert page.is_visible("#span") and page.locator("#span").bounding_box()["width"] >= 2
    page.set_input_files("#wav", {"name": "bad.wav", "mimeType": "audio/wav", "buffer": b"not a wav"})
    page.wait_for_selector("#aerror:has-text('not a WAV file')")
    page.screenshot(path=str(tmp_path / "audio.png"))


@pytest.fixture
def microphone_page(missing_browser):
    """A page in a headless Chromium (found as the `chromium` fixture finds it) whose microphone is Chromium's fake
    device (a beep), allowed without asking."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        own = p.chromium.executable_path
        path = None if own and Path(own).is_file() else system_chromium()
        if not (own and Path(own).is_file()) and path is None:
            missing_browser("no Chromium: neither playwright's own nor the system's")
        browser = p.chromium.launch(headless=True, executable_path=path,
                                    args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_a_recording_is_sent_as_16_bit_wav_at_16_khz(server, microphone_page):
    page = microphone_page
    page.goto(server.url + "/")
    page.wait_for_selector("#record", state="visible")
    page.click("#record")
    page.wait_for_selector("#record.on")
    page.wait_for_timeout(600)
    page.click("#record")
    page.wait_for_selector(".alignment .token-row")
    body = bytes(page.evaluate("""async () => {      // the WAV sent, which the page's player plays back
        const reply = await fetch(document.getElementById("player").src);
        return Array.from(new Uint8Array(await reply.arrayBuffer())); }"""))
    assert body[:4] == b"RIFF" and body[34:36] == (16).to_bytes(2, "little")      # 16-bit PCM
    audio = read_audio_bytes(body, "recording")
    assert audio.sample_rate == 16000 and 0.3 < audio.seconds < 1.5
    assert np.abs(audio.samples).max() > 0.01, "the fake microphone's beep should be in the recording"
    reply = transcribe(server, body, beam_size=int(page.input_value("#abeam")), attention="true").json()
    assert page.inner_text("#transcript") == reply["text"]
    assert page.locator(".alignment .token-row").count() == len(reply["tokens"])
