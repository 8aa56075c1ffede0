"""The server against clients that misbehave: a body far over the limit sent whole before the reply is read (as
Python's urllib does) still reads its 413 with the limit named; a body that trickles in gets 408 without holding up
other clients; the server keeps serving after both."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import toy_config
from test_serve import Server

from seq2seq.config import ServeSettings
from seq2seq.serving import create_app
from seq2seq.training.train import train


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    train(toy_config("copy", max_steps=30), run, verbose=False)
    with Server(create_app(str(run), ServeSettings(max_body_bytes=100_000, body_timeout_s=0.5))) as s:
        yield s


def test_a_client_that_sends_a_huge_body_whole_reads_the_413(server):
    body = json.dumps({"texts": ["1 2 3 " * 1000] * 1600}).encode()           # ~9.6 MB
    request = urllib.request.Request(f"{server.url}/translate", data=body,
                                     headers={"content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413
    assert "limit of 100,000 bytes (--max-body-bytes)" in json.loads(refused.value.read())["detail"]
    assert httpx.post(f"{server.url}/translate", json={"texts": ["1 2"]}, timeout=30).status_code == 200


def read_all(sock: socket.socket, first: bytes) -> bytes:
    """The whole reply: the server closes the connection after it (headers and body may come apart)."""
    sock.settimeout(30)
    reply = first
    while more := sock.recv(65536):
        reply += more
    return reply


def trickle(url: str, seconds: float) -> bytes:
    """A request whose body (Content-Length 40) comes one byte every `seconds`; what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 40\r\n\r\n")
        sock.settimeout(seconds)
        for byte in b'{"texts": ["1 2 3 4 5 6 7 8 9 1 2 3"]}  ':
            try:
                sock.sendall(bytes([byte]))
                reply = sock.recv(65536)                      # the server answered before the body was done
                if reply:
                    return read_all(sock, reply)
            except socket.timeout:
                continue
            except OSError:
                break
        return read_all(sock, b"")


def test_a_body_that_trickles_in_gets_408_and_other_clients_are_answered_meanwhile(server):
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(trickle, server.url, 1.0)
        time.sleep(0.2)
        start = time.perf_counter()
        quick = httpx.post(f"{server.url}/translate", json={"texts": ["1 2"]}, timeout=30)
        waited = time.perf_counter() - start
        reply = slow.result(timeout=60)
    assert quick.status_code == 200 and waited < 5.0, waited
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"--body-timeout-s" in reply
