"""A new task plugs in from a module of its own, editing no file of the package: it registers its task class
(with its config class, predictor and HTTP routes) and then trains, predicts through `seq2seq.load`, serves a request
at its own endpoint, evaluates and gets a report — the same front doors the built-in tasks go through.

The toy task, `shout`, is text → text: it reads a synthetic copy task and its predictor writes the output in capitals;
its endpoint is `POST /shout`."""

from __future__ import annotations

import importlib
import sys
import textwrap

import httpx
import pytest

TOY_MODULE = '''
from typing import Literal

from fastapi import Request

from seq2seq.config import TranslationConfig
from seq2seq.inference.translator import Translator
from seq2seq.serving.routes import TaskRoutes
from seq2seq.tasks import TranslationTask, register


class ShoutConfig(TranslationConfig):
    task: Literal["shout"]


class Shouter(Translator):
    def predict(self, inputs, **options):
        return [t.text.upper() for t in self.translate(list(inputs), **options)]


def add_routes(app, predictor, batcher, settings, runs):
    @app.post("/shout")
    async def shout(http: Request):
        texts = (await http.json())["texts"]
        results, batched = await batcher.submit(texts, ())
        return {"shouted": results, "batched_with": batched}


ROUTES = TaskRoutes("/shout", "POST JSON texts to /shout", add_routes,
                    lambda predictor: lambda texts, options: predictor.predict(texts, beam_size=1))


@register
class ShoutTask(TranslationTask):
    name = "shout"
    config_class = ShoutConfig
    predictor_class = "toy_shout_task:Shouter"
    routes = "toy_shout_task:ROUTES"
'''


@pytest.fixture(scope="module")
def toy_task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "toy_shout_task.py").write_text(textwrap.dedent(TOY_MODULE), encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("toy_shout_task")
    finally:
        from seq2seq.config import CONFIGS
        from seq2seq.tasks import TASKS

        TASKS.pop("shout", None)
        CONFIGS.pop("shout", None)
        sys.path.remove(str(folder))
        sys.modules.pop("toy_shout_task", None)


@pytest.fixture(scope="module")
def toy_run(toy_task, tmp_path_factory):
    from seq2seq.config import validate
    from seq2seq.training.train import train

    run = tmp_path_factory.mktemp("shout") / "run"
    config = validate({
        "task": "shout",
        "data": {"synthetic": {"task": "copy", "train_size": 600, "valid_size": 40, "test_size": 40, "min_len": 2,
                               "max_len": 5, "symbols": 5, "seed": 3}},
        "tokenizer": {"type": "whitespace", "joint": True},
        "model": {"embedding_size": 16, "encoder": {"hidden_size": 24, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "hidden_size": 32, "dropout": 0.0}},
        "train": {"max_steps": 200, "batch_sentences": 32, "lr": 5e-3, "valid_every": 100, "valid_metric": "accuracy",
                  "patience": None, "attention_plots": 1, "threads": 1},
        "decode": {"max_len_a": 1.0, "max_len_b": 2, "batch_size": 64},
    })
    train(config, run, verbose=False)
    return run


def test_a_registered_task_trains_and_predicts_through_load(toy_task, toy_run):
    from seq2seq import load

    shouter = load(toy_run)
    assert isinstance(shouter, toy_task.Shouter)
    outputs = shouter.predict(["a b c", "d e"])
    assert all(o == o.upper() and o for o in outputs)
    assert sum(o == i.upper() for o, i in zip(outputs, ["a b c", "d e"])) >= 1   # it learnt to copy


def test_a_registered_task_is_served_at_its_own_endpoint_and_refuses_the_others(toy_run):
    from test_serve import Server

    from seq2seq.serving import create_app

    with Server(create_app(str(toy_run))) as server:
        shouted = httpx.post(f"{server.url}/shout", json={"texts": ["a b", "c"]}, timeout=60)
        other = httpx.post(f"{server.url}/translate", json={"texts": ["a"]}, timeout=60)
        info = httpx.get(f"{server.url}/info", timeout=60).json()
    assert shouted.status_code == 200, shouted.text
    assert [o == o.upper() for o in shouted.json()["shouted"]] == [True, True]
    assert other.status_code == 404 and "serves a shout run" in other.json()["detail"]
    assert info["task"] == "shout" and info["vocab"]["source"] > 0


def test_a_registered_task_is_evaluated_and_reported(toy_run, tmp_path, capsys):
    from seq2seq.cli import main

    assert main(["evaluate", str(toy_run), "--json"]) == 0
    assert '"bleu"' in capsys.readouterr().out
    assert main(["report", str(toy_run), "-o", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Sample translations" in page and "Attention during training" in page
