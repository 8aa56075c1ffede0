"""`seq2seq serve` on an image_to_text run: POST /read with an image body or a multipart upload of one, and the
page's image section, on a real server (the tiny rendered-string reader of test_image_to_text.py)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from test_image_to_text import line_image, png, train_reader
from test_serve import Server

from seq2seq import load
from seq2seq.config import ServeSettings
from seq2seq.serving import create_app


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_reader(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def server(run):
    with Server(create_app([str(run)], ServeSettings(max_beam=6, max_body_bytes=200_000, max_wait_ms=30))) as s:
        yield s


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    paths = {}
    for text in ("abc", "hgf", "ead"):
        paths[text] = folder / f"{text}.png"
        line_image(paths[text], text)
    return paths


def read(server, body: bytes, content_type: str = "image/png", **params) -> httpx.Response:
    return httpx.post(f"{server.url}/read", params=params, content=body, headers={"content-type": content_type},
                      timeout=60)


def test_read_matches_the_api_for_a_body_and_an_upload(server, run, images):
    reader = load(run)
    for text, path in images.items():
        reply = read(server, path.read_bytes(), beam_size=2, attention="true").json()
        [expected] = reader.read([str(path)], beam_size=2)
        assert reply["text"] == expected.text == text and reply["tokens"] == expected.tokens
        assert np.allclose(reply["attention"], expected.attention, atol=1e-4)
        assert reply["columns"] == expected.columns and reply["height"] == 16 and reply["reduction"] == 4
        upload = httpx.post(f"{server.url}/read", files={"file": (path.name, path.read_bytes(), "image/png")},
                            timeout=60).json()
        assert upload["text"] == text and "attention" not in upload


@pytest.mark.parametrize("body,content_type,status,needle", [
    (b"not an image", "image/png", 422, "request body: not an image"),
    (png(np.zeros((1, 1), np.uint8)), "image/png", 422, "too small to read"),
    (b"GIF89a", "text/plain", 415, "the body must be an image"),
])
def test_bad_images_get_a_4xx_with_the_reason(server, body, content_type, status, needle):
    reply = read(server, body, content_type)
    assert reply.status_code == status and needle in reply.json()["detail"]


def test_an_upload_of_the_wrong_type_or_without_a_file_is_refused(server, images):
    wrong = httpx.post(f"{server.url}/read", files={"file": ("a.wav", b"RIFF", "audio/wav")}, timeout=60)
    assert wrong.status_code == 415 and "the uploaded file must be an image" in wrong.json()["detail"]
    empty = httpx.post(f"{server.url}/read", data={"note": "x"}, files={"file": ("", b"", "image/png")}, timeout=60)
    assert empty.status_code == 422 and "curl -F file=@line.png" in empty.json()["detail"]


def test_info_says_what_is_read_and_the_other_tasks_endpoints_are_404(server):
    info = httpx.get(f"{server.url}/info", timeout=60).json()
    assert info["task"] == "image_to_text" and info["image"]["height"] == 16
    assert "image/png" in info["reading"]["image_types"]
    missing = httpx.post(f"{server.url}/translate", json={"texts": ["a"]}, timeout=60)
    assert missing.status_code == 404 and "POST an image to /read" in missing.json()["detail"]


def test_the_image_section_in_headless_chromium(server, images, chromium, tmp_path):
    page = chromium.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#image-tab", state="visible")
    assert not page.is_visible("#text-tab")
    page.set_input_files("#picture", str(images["hgf"]))
    page.wait_for_selector("#reading span.piece")
    reply = read(server, images["hgf"].read_bytes(), beam_size=5, attention="true").json()
    assert page.inner_text("#reading").replace("⏎", "") == reply["text"]
    assert page.locator("#reading span.piece").count() == len(reply["tokens"])
    glow = """() => { const c = document.getElementById('glow');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return Array.from({length: d.length / 4}, (_, i) => d[4 * i + 3]).filter((a) => a > 0).length; }"""
    assert page.evaluate(glow) == 0                                      # nothing lit before the cursor comes
    page.hover("#reading span.piece >> nth=1")
    assert page.evaluate(glow) > 0 and page.locator("#reading span.piece.lit").count() == 1
    page.set_input_files("#picture", {"name": "bad.png", "mimeType": "image/png", "buffer": b"not a png"})
    page.wait_for_selector("#ierror:has-text('not an image')")
    page.screenshot(path=str(tmp_path / "image.png"))
