"""`seq2seq serve`: a real server on a free loopback port, real HTTP requests."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from helpers import toy_config

from seq2seq.checkpoint import FORMAT_VERSION
from seq2seq.cli import main
from seq2seq.config import ServeSettings
from seq2seq.inference.translator import Translator
from seq2seq.serving import create_app
from seq2seq.training.train import train


class Server:
    """uvicorn in a thread, listening on a socket bound to a free loopback port."""

    def __init__(self, app):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            assert time.time() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(toy_config("copy", max_steps=150), path, verbose=False)
    return path


@pytest.fixture(scope="module")
def server(run_dir):
    with Server(create_app(run_dir, ServeSettings(max_texts=10, max_chars=200, max_beam=6, max_body_bytes=20_000,
                                                   max_wait_ms=20))) as s:
        yield s


SENTENCES = ["1 2 3", "4 5", "2 2 1 3 5", "6", "3 1 4 1 5", "5 4 3 2 1 6", "1", "2 4 6 1"]


def post(server: Server, payload, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/translate", json=payload, timeout=60, **kwargs)


def test_translations_match_the_cli_and_the_api(server, run_dir, capsys, monkeypatch, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(SENTENCES + [""]) + "\n")
    for beam in (1, 4):
        capsys.readouterr()
        assert main(["translate", str(run_dir), "--input", str(source), "--beam-size", str(beam),
                     "--alpha", "0"]) == 0
        cli = capsys.readouterr().out.split("\n")[:-1]
        reply = post(server, {"texts": SENTENCES + [""], "beam_size": beam})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert [t["text"] for t in body["translations"]] == cli
        assert body["beam_size"] == beam
    api = Translator.load(run_dir).translate_n_best(SENTENCES, 3, beam_size=3)
    reply = post(server, {"texts": SENTENCES, "beam_size": 3, "n_best": 3, "attention": True}).json()
    for want, got in zip(api, reply["translations"]):
        assert [h.text for h in want] == [h["text"] for h in got["n_best"]]
        assert all(abs(h.score - g["score"]) < 1e-4 for h, g in zip(want, got["n_best"]))
        assert got["tgt_tokens"] == want[0].tokens and got["src_tokens"] == want[0].src_tokens
        assert len(got["attention"]) == len(got["tgt_tokens"])
        assert all(len(row) == len(got["src_tokens"]) and abs(sum(row) - 1) < 1e-3 for row in got["attention"])
    assert "attention" not in post(server, {"texts": ["1 2"]}).json()["translations"][0]


def test_concurrent_requests_each_get_their_own_answer_and_are_batched(server, run_dir):
    translator = Translator.load(run_dir)
    texts = [" ".join(str(1 + (i * 7 + j) % 6) for j in range(1 + i % 6)) for i in range(48)]
    expected = [t.text for t in translator.translate(texts, beam_size=1)]
    with ThreadPoolExecutor(max_workers=48) as pool:
        replies = list(pool.map(lambda text: post(server, {"texts": [text], "beam_size": 1}), texts))
    assert all(r.status_code == 200 for r in replies)
    assert [r.json()["translations"][0]["text"] for r in replies] == expected
    assert max(r.json()["batched_with"] for r in replies) > 1, "concurrent requests should share batches"


@pytest.mark.parametrize("payload,status,needle", [
    ({"texts": ["1"] * 11}, 422, "at most 10 per request (--max-texts)"),
    ({"texts": ["1 " * 150]}, 422, "texts[0]: 300 characters; at most 200 per text (--max-chars)"),
    ({"texts": ["1"], "beam_size": 7}, 422, "beam_size: 7; at most 6 (--max-beam)"),
    ({"texts": ["1"], "n_best": 9}, 422, "n_best: 9; at most 6"),
    ({"texts": ["1"], "beam_size": 0}, 422, "greater than or equal to 1"),
    ({"texts": "1 2 3"}, 422, "valid list"),
    ({"text": ["1 2"]}, 422, "texts"),
    ({"texts": ["1"], "bogus": 1}, 422, "bogus"),
    ({"texts": ["x" * 190] * 120}, 413, "over this server's limit of 20,000 bytes (--max-body-bytes)"),
])
def test_limits_and_bad_requests_get_4xx_with_a_json_reason(server, payload, status, needle):
    reply = post(server, payload)
    assert reply.status_code == status, reply.text
    assert needle in json.dumps(reply.json()["detail"]), reply.json()
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}      # still serving


def test_malformed_json_and_chunked_oversized_bodies(server):
    for body in (b'{"texts": [bad json', b"", b"\xff\xfe"):
        reply = httpx.post(f"{server.url}/translate", content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 422 and "detail" in reply.json()

    def chunks():                                   # no Content-Length: the limit applies while it streams
        yield b'{"texts": ["'
        for _ in range(30):
            yield b"1 " * 500
        yield b'"]}'

    reply = httpx.post(f"{server.url}/translate", content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413, reply.text
    assert post(server, {"texts": ["1 2"]}).status_code == 200


def test_timeout_gets_504_and_the_server_keeps_serving(run_dir):
    with Server(create_app(run_dir, ServeSettings(timeout_s=0.001, max_wait_ms=50))) as s:
        reply = post(s, {"texts": SENTENCES, "beam_size": 5})
        assert reply.status_code == 504 and "--timeout" in reply.json()["detail"]
        assert httpx.get(f"{s.url}/health").status_code == 200


def test_batching_off_decodes_each_request_alone(run_dir):
    with Server(create_app(run_dir, ServeSettings(batching=False))) as s:
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda text: post(s, {"texts": [text]}), SENTENCES))
        assert all(r.json()["batched_with"] == 1 for r in replies)


def test_info_docs_and_page_are_served_without_a_cdn(server, run_dir):
    info = httpx.get(f"{server.url}/info").json()
    assert info["format_version"] == FORMAT_VERSION and info["attention"] is True
    assert info["vocab"]["source"] > 4 and info["model"]["decoder"]["attention"] == "bahdanau"
    assert info["serve"]["max_texts"] == 10
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert httpx.get(f"{server.url}/docs-assets/swagger-ui-bundle.js").status_code == 200
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/translate" in schema["paths"]
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "<textarea" in page.text
    assert "http://" not in page.text and "https://" not in page.text           # every asset comes from the package
    assert "cdn" not in docs.text.lower()


def test_transcribe_is_refused_on_a_translation_run(server, run_dir):
    reply = httpx.post(f"{server.url}/transcribe", content=b"RIFF", headers={"content-type": "audio/wav"})
    assert reply.status_code == 404
    assert reply.json()["detail"] == (f"this server serves a translation run ({run_dir.name}): POST JSON texts to "
                                      f"/translate; /transcribe needs a speech_to_text run")
    info = httpx.get(f"{server.url}/info").json()
    assert info["task"] == "translation" and info["runs"] == [run_dir.name]     # the run's name, not its path
    assert str(run_dir.parent) not in reply.text and str(run_dir.parent) not in json.dumps(info)
    assert "/transcribe" not in httpx.get(f"{server.url}/openapi.json").json()["paths"]


def test_serve_command_line_errors(run_dir, capsys):
    for args, needle in ((["--port", "0"], "--port 0"), (["--max-batch-size", "0"], "--max-batch-size 0"),
                         (["--workers", "0"], "--workers 0"), (["--timeout", "-1"], "--timeout -1.0")):
        assert main(["serve", str(run_dir), *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def line_reader(stream) -> queue.Queue:
    """The lines of `stream`, read on a thread so that waiting for one can time out; None once it closes."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for_line(lines: queue.Queue, pattern: str, timeout: float) -> None:
    seen, deadline = [], time.time() + timeout
    while not seen or not re.fullmatch(pattern, seen[-1]):
        try:
            line = lines.get(timeout=max(deadline - time.time(), 0))
        except queue.Empty:
            line = None
        if line is None:
            raise AssertionError(f"no line matching {pattern!r} on stderr (closed, or {timeout:g} s passed); "
                                 f"got {seen}")
        seen.append(line)


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "


def test_the_command_says_where_it_listens_then_logs_each_request(run_dir):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "seq2seq", "serve", str(run_dir), "--port", str(port),
                             "--device", "cpu", "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8")
    try:
        lines = line_reader(proc.stderr)
        wait_for_line(lines, re.escape(f"seq2seq: serving {run_dir} (translation, cpu) on {url} — page at /, API "
                                       f"docs at /docs; Ctrl-C stops"), timeout=60)
        assert httpx.post(f"{url}/translate", json={"texts": ["1 2", "3"]}).status_code == 200   # listening now
        wait_for_line(lines, STAMP + r"POST /translate 200 \d+\.\d ms 2 texts", timeout=10)
        assert httpx.post(f"{url}/translate", json={"texts": "1 2"}).status_code == 422
        wait_for_line(lines, STAMP + r"POST /translate 422 \d+\.\d ms", timeout=10)
        assert httpx.get(f"{url}/health").status_code == 200
        wait_for_line(lines, STAMP + r"GET /health 200 \d+\.\d ms", timeout=10)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_page_in_headless_chromium(server, tmp_path, chromium):
    page = chromium.new_page()
    page.goto(server.url + "/")
    page.fill("#input", "1 2 3 4")
    page.select_option("#beam", "3")
    page.click("#go")
    page.wait_for_selector(".result .translation")
    text = page.inner_text(".result .translation")
    rows = page.locator("table.heatmap tbody tr").count()
    reply = post(server, {"texts": ["1 2 3 4"], "beam_size": 3, "attention": True}).json()["translations"][0]
    assert text == reply["text"] and rows == len(reply["tgt_tokens"])
    page.hover("table.heatmap tbody tr >> nth=0")
    assert page.locator("table.heatmap thead th.lit").count() >= 1      # the attended source token lights up
    page.screenshot(path=str(os.environ.get("SEQ2SEQ_SCREENSHOT", tmp_path / "page.png")))
