"""ONNX export and onnxruntime decoding: the masked encoder equals the packed one; greedy and beam search over
onnxruntime give PyTorch's hypotheses and scores for every decoder family; the CLI writes and reads exports and
refuses mistakes in one line."""

import json
from pathlib import Path
from typing import Any

import pytest
import torch

pytest.importorskip("onnx", reason="the [onnx] extra is not installed (pip install -e '.[onnx]')")
pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed (pip install -e '.[onnx]')")

from seq2seq import checkpoint as ckpt  # noqa: E402
from seq2seq.cli import main  # noqa: E402
from seq2seq.config import validate  # noqa: E402
from seq2seq.data.batching import pad_sources  # noqa: E402
from seq2seq.errors import UserError  # noqa: E402
from seq2seq.inference.loading import load_run  # noqa: E402
from seq2seq.export import MANIFEST, export_run, require_onnx  # noqa: E402
from seq2seq.model.masked_encoder import MaskedEncoder  # noqa: E402
from seq2seq.export.onnx_runtime import OnnxModel  # noqa: E402
from seq2seq.search import SearchOptions, decode_all  # noqa: E402
from seq2seq.tasks import get_task  # noqa: E402
from helpers import FAMILIES  # noqa: E402
from seq2seq.rundir import RunDir

EXPORT_FAMILIES = ["vanilla", "bahdanau", "luong-dot", "luong-general", "luong-concat", "luong-general-nofeed",
                   "luong-local-m", "luong-local-p", "luong-local-m-nofeed", "luong-local-p-nofeed",
                   "bahdanau-location"]


def raw_config(decoder: dict[str, Any], rnn: str, layers: int = 2, bidirectional: bool = True,
               residual: bool = False) -> dict[str, Any]:
    return {"data": {"synthetic": {"task": "reverse", "train_size": 50, "valid_size": 5, "test_size": 5,
                                   "min_len": 2, "max_len": 7, "symbols": 9, "seed": 7}},
            "tokenizer": {"type": "whitespace", "joint": True},
            "model": {"embedding_size": 8,
                      "encoder": {"rnn": rnn, "hidden_size": 6, "layers": layers, "bidirectional": bidirectional,
                                  "residual": residual, "dropout": 0.0},
                      "decoder": {"hidden_size": 6 * (1 + bidirectional), "rnn": rnn, "layers": layers,
                                  "dropout": 0.0, **decoder}},
            "decode": {"max_len_a": 1.0, "max_len_b": 3, "beam_size": 2, "alpha": 0.6}}


def make_run(path: Path, raw: dict[str, Any], seed: int = 0) -> Path:
    """A translation run directory as training writes it (config, tokenizer, best weights), with random weights."""
    config = validate(raw)
    task = get_task(config)
    vocab = task.build_vocab(task.read_data())
    torch.manual_seed(seed)
    model = task.build_model(vocab)
    for p in model.parameters():           # sharper distributions than the default initialisation: fewer near-ties
        torch.nn.init.uniform_(p, -0.6, 0.6)
    ckpt.write_run_header(path, config)
    task.save_vocab(path, vocab)
    ckpt.save_weights(RunDir(path).best, model, step=1)
    return path


def sources(n: int, vocab: int, seed: int, max_len: int = 11) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(4, vocab, (int(torch.randint(1, max_len, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


def assert_same_search(run_dir: Path, export_dir: Path, seed: int = 0) -> None:
    """PyTorch and onnxruntime: the same hypotheses, scores and attention to 1e-4 — greedy and beam 5, one sentence
    per batch and several of mixed lengths (padding)."""
    model = load_run(run_dir).model
    onnx = OnnxModel(export_dir, threads=1)
    srcs = sources(10, model.head.vocab_size, seed)
    for beam in (1, 5):
        opts = SearchOptions(beam_size=beam, n_best=beam, alpha=0.6, max_len_a=1.0, max_len_b=3)
        for batch, some in ((1, srcs[:3]), (4, srcs)):         # alone, and in padded batches of mixed lengths
            want = decode_all(model, some, opts, batch_size=batch)
            got = decode_all(onnx, some, opts, batch_size=batch)
            for w, g in zip(want, got):
                assert [h.tokens for h in w] == [h.tokens for h in g]
                assert [h.finished for h in w] == [h.finished for h in g]
                for a, b in zip(w, g):
                    assert abs(a.score - b.score) < 1e-4
                    assert (a.attention is None) == (b.attention is None)
                    if a.attention is not None:
                        torch.testing.assert_close(a.attention, b.attention, rtol=0, atol=1e-4)


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
@pytest.mark.parametrize("layers,bidirectional,residual", [(1, True, False), (2, True, False), (2, False, False),
                                                            (3, True, True), (2, False, True)])
def test_masked_encoder_equals_packed_encoder(rnn, layers, bidirectional, residual):
    """States (zeros on padding), mask and final state of the export's encoder equal the packed encoder's, with
    rows of every length — a single token among them — in one padded batch."""
    config = validate(raw_config(FAMILIES["bahdanau"], rnn, layers, bidirectional, residual))
    torch.manual_seed(1)
    from seq2seq.model.seq2seq import Seq2Seq

    model = Seq2Seq.for_text(config.model, 15, 15).eval()
    src, lengths, _ = pad_sources([[5, 6, 7], [4], [8, 9, 10, 11, 12, 4, 5, 14], [6, 6], [9] * 8])
    with torch.no_grad():
        want, got = model.encoder(src, lengths), MaskedEncoder(model.encoder)(src, lengths)
    torch.testing.assert_close(got.states, want.states, rtol=0, atol=1e-6)
    torch.testing.assert_close(got.final, want.final, rtol=0, atol=1e-6)
    assert torch.equal(got.mask, want.mask)
    assert float(got.states[1, 1:].abs().max()) == 0.0


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
@pytest.mark.parametrize("name", EXPORT_FAMILIES)
def test_onnxruntime_search_equals_pytorch(tmp_path, name, rnn):
    run_dir = make_run(tmp_path / "run", raw_config(FAMILIES[name], rnn), seed=EXPORT_FAMILIES.index(name))
    export_dir = export_run(run_dir, tmp_path / "export")
    assert_same_search(run_dir, export_dir, seed=len(name))


def test_unidirectional_encoder_zero_bridge_tied_embeddings(tmp_path):
    raw = raw_config(FAMILIES["luong-concat"], "lstm", layers=1, bidirectional=False)
    raw["model"].update({"bridge": "zero", "tie_embeddings": True})
    raw["model"]["decoder"]["hidden_size"] = 8
    run_dir = make_run(tmp_path / "run", raw)
    assert_same_search(run_dir, export_run(run_dir, tmp_path / "export"))


def test_residual_encoder_exports_with_the_same_search(tmp_path):
    run_dir = make_run(tmp_path / "run", raw_config(FAMILIES["luong-concat"], "gru", layers=3, residual=True))
    assert_same_search(run_dir, export_run(run_dir, tmp_path / "export"))


def test_dynamo_exporter_gives_the_same_search(tmp_path):
    """torch.export-based exporter (onnxscript >= 0.7.1: earlier versions export nn.GRU wrong)."""
    pytest.importorskip("onnxscript", reason="the dynamo exporter needs onnxscript (the [onnx] extra)")
    run_dir = make_run(tmp_path / "run", raw_config(FAMILIES["bahdanau"], "gru"))
    export_dir = export_run(run_dir, tmp_path / "export", exporter="dynamo")
    assert json.loads((export_dir / MANIFEST).read_text())["exporter"] == "dynamo"
    assert_same_search(run_dir, export_dir)


def test_manifest_describes_the_graphs(tmp_path):
    import onnxruntime as ort

    run_dir = make_run(tmp_path / "run", raw_config(FAMILIES["luong-local-m"], "lstm"))
    export_dir = export_run(run_dir, tmp_path / "export")
    m = json.loads((export_dir / MANIFEST).read_text())
    assert m["task"] == "translation" and m["format_version"] == 1
    assert m["special_ids"] == {"pad": 0, "unk": 1, "bos": 2, "eos": 3}
    assert m["search_defaults"]["beam_size"] == 2 and m["search_defaults"]["alpha"] == 0.6
    state = {s["name"]: s for s in m["state"]}
    assert set(state) == {"hidden", "cell", "feed", "att_time"}
    assert state["hidden"]["shape"] == [2, "rows", 12] and state["hidden"]["batch_dim"] == 1
    assert state["att_time"]["batch_dim"] is None
    step = ort.InferenceSession(str(export_dir / "decoder_step.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in step.get_inputs()] == m["step"]["inputs"]
    assert [o.name for o in step.get_outputs()] == m["step"]["outputs"]
    assert (export_dir / m["tokenizer"][0]).is_file() and m["opset"] >= 17 and "torch" in m["versions"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("cli") / "run", raw_config(FAMILIES["bahdanau"], "gru"))


def translate(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """`seq2seq translate ARGS` in this process (no interpreter start-up): exit status, stdout, stderr."""
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(["translate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_and_translate_on_onnxruntime(cli_run, tmp_path, capsys, monkeypatch):
    """`translate EXPORT_DIR` and `translate RUN_DIR --runtime onnxruntime` write what PyTorch writes (n-best lists
    with scores, beam 3), and the run's search defaults (beam 2, alpha 0.6) apply to the export."""
    symbols = ckpt.tokenizers_of(cli_run)[0].pieces(range(4, 13))
    lines = "\n".join(" ".join(symbols[i % 9] for i in range(k, 2 * k + 1)) for k in range(7)) + "\n\n"
    assert main(["export", str(cli_run), "-o", str(tmp_path / "exp")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "exp")
    plain = translate(capsys, monkeypatch, str(cli_run), stdin=lines)
    n_best = translate(capsys, monkeypatch, str(cli_run), "--n-best", "3", "--jsonl", stdin=lines)
    assert plain[0] == n_best[0] == 0 and len(plain[1].splitlines()) == len(n_best[1].splitlines()) == 8
    for onnx in ([str(tmp_path / "exp")], [str(cli_run), "--runtime", "onnxruntime"]):
        assert translate(capsys, monkeypatch, *onnx, stdin=lines) == plain
        code, out, err = translate(capsys, monkeypatch, *onnx, "--n-best", "3", "--jsonl", stdin=lines)
        assert code == 0 and err == ""
        for mine, theirs in zip(out.splitlines(), n_best[1].splitlines(), strict=True):
            mine, theirs = json.loads(mine)["n_best"], json.loads(theirs)["n_best"]
            assert [(h["text"], h["tokens"]) for h in mine] == [(h["text"], h["tokens"]) for h in theirs]
            assert all(abs(a["score"] - b["score"]) < 1e-4 for a, b in zip(mine, theirs))


def one_line_error(capsys, monkeypatch, argv: list[str], *needles: str) -> None:
    code, out, err = translate(capsys, monkeypatch, *argv[1:], stdin="a b\n") if argv[0] == "translate" else \
        (main(argv), *capsys.readouterr())
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_cli_mistakes_are_one_line_errors(cli_run, tmp_path, capsys, monkeypatch):
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    one_line_error(capsys, monkeypatch, ["export", str(not_a_run), "-o", str(tmp_path / "e")], "not a run directory")
    half = tmp_path / "half"
    half.mkdir()
    (half / "encoder.onnx").write_bytes(b"")
    one_line_error(capsys, monkeypatch, ["translate", str(half), "--runtime", "onnxruntime"], "manifest.json missing")
    one_line_error(capsys, monkeypatch, ["export", str(cli_run), "-o", str(cli_run)], "not an export directory")
    one_line_error(capsys, monkeypatch, ["translate", str(cli_run), "--runtime", "onnxruntime", "--precision", "bf16"], "bf16")
    one_line_error(capsys, monkeypatch, ["translate", str(cli_run), str(cli_run), "--runtime", "onnxruntime"], "ensembles")


def test_missing_onnxruntime_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)   # as if the package were not installed
    with pytest.raises(UserError, match=r"install the \[onnx\] extra: pip install 'seq2seq\[onnx\]'"):
        require_onnx()
