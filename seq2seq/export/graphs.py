"""`seq2seq export`: a translation run as two ONNX graphs, its tokenizers and a manifest.

    export_run("runs/demo", "exports/demo")          # → encoder.onnx, decoder_step.onnx, tokenizer/, config.yaml,
                                                    #   manifest.json (written last: its presence marks a whole export)

- `encoder.onnx`: src (batch, src_len) int64, src_lengths (batch,) int64 → what search starts from, i.e.
  `decoder.prepare(model.encode(...))` and `decoder.init_state(...)`: the memory tensors (`memory_states`,
  `memory_mask`, `memory_final`, `memory_cache` when the attention caches projected keys) and the initial decoder
  state tensors. The encoder runs without packed sequences (`model/masked_encoder.py`), with equal results.
- `decoder_step.onnx`: one `Decoder.step` + `TokenHead.log_probs`: y_prev (rows,) int64, the state tensors and the
  memory tensors the step reads → `logp` (rows, vocab), `attention` (rows, src_len) for attention decoders, and
  `next_NAME` for every state tensor NAME.

The decoder state is flat named tensors (`STATE_FIELDS`); the manifest lists those a model has, with their shapes
("rows" and "src_len" are the dynamic axes) and the axis that indexes rows (null: shared by every row). Graphs are
fp32: onnxruntime's CPU provider has no bf16 arithmetic.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn

from ..data.text.tokenizers import BOS, EOS, PAD, UNK
from ..errors import UserError
from ..files import write_atomic
from ..inference.loading import Run, load_run
from ..model.attention import AttentionState, LocalAttention
from ..model.decoder import DecoderState
from ..model.encoder import Memory
from ..model.masked_encoder import MaskedEncoder
from ..model.seq2seq import Seq2Seq
from ..rundir import RunDir
from ..version import __version__
from .layout import CONFIG, ENCODER, EXPORT_FORMAT, MANIFEST, NEXT, STEP, require_onnx

OPSET = 18
EXPORTERS = ("torchscript", "dynamo")
ROWS, SRC_LEN = "rows", "src_len"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | str, ...]    # ints, or the dynamic axes ROWS / SRC_LEN
    batch_dim: Optional[int]        # the axis that indexes rows (beam search selects along it); None: shared
    dtype: str                      # numpy dtype name


def state_specs(model: Seq2Seq) -> list[TensorSpec]:
    """The decoder state tensors `model` has, in graph order."""
    dec, attention = model.decoder, getattr(model.decoder, "attention", None)
    specs = [TensorSpec("hidden", (dec.layers, ROWS, dec.hidden_size), 1, "float32")]
    if dec.is_lstm:
        specs.append(TensorSpec("cell", (dec.layers, ROWS, dec.hidden_size), 1, "float32"))
    if getattr(dec, "input_feeding", False):
        specs.append(TensorSpec("feed", (ROWS, dec.output_size), 0, "float32"))
    if getattr(attention, "stateful", False):             # it carries the previous and cumulative weights
        specs += [TensorSpec(n, (ROWS, SRC_LEN), 0, "float32") for n in ("att_previous", "att_cumulative")]
    if isinstance(attention, LocalAttention) and attention.kind == "local-m":
        specs.append(TensorSpec("att_time", (1,), None, "int64"))   # the step index local-m centres on
    return specs


def memory_specs(model: Seq2Seq) -> list[TensorSpec]:
    """The memory tensors the encoder graph writes (every one indexed by row)."""
    size = model.encoder.output_size
    specs = [TensorSpec("memory_states", (ROWS, SRC_LEN, size), 0, "float32"),
             TensorSpec("memory_mask", (ROWS, SRC_LEN), 0, "bool"),
             TensorSpec("memory_final", (ROWS, size), 0, "float32")]
    cache = _cache_size(model)
    if cache is not None:
        specs.append(TensorSpec("memory_cache", (ROWS, SRC_LEN, cache), 0, "float32"))
    return specs


def _cache_size(model: Seq2Seq) -> Optional[int]:
    size = model.encoder.output_size
    probe = model.decoder.prepare(Memory(torch.zeros(1, 1, size), torch.ones(1, 1, dtype=torch.bool),
                                         torch.zeros(1, size)))
    return None if probe.cache is None else probe.cache.size(-1)


def step_memory_names(model: Seq2Seq) -> list[str]:
    """The memory tensors a decoder step reads: the fixed context (vanilla), or what attention reads."""
    if not model.decoder.has_attention:
        return ["memory_final"]
    return [s.name for s in memory_specs(model) if s.name != "memory_final"]


def flatten_state(state: DecoderState) -> dict[str, Tensor]:
    att = state.attention
    named = {"hidden": state.hidden, "cell": state.cell, "feed": state.feed, "att_previous": att.previous,
             "att_cumulative": att.cumulative, "att_time": att.time if isinstance(att.time, Tensor) else None}
    return {k: v for k, v in named.items() if v is not None}


def unflatten_state(named: dict[str, Tensor]) -> DecoderState:
    attention = AttentionState(named.get("att_time", 0), named.get("att_previous"), named.get("att_cumulative"))
    return DecoderState(named["hidden"], named.get("cell"), named.get("feed"), attention)


def flatten_start(memory: Memory, state: DecoderState) -> dict[str, Tensor]:
    """What the encoder graph writes, by name: the memory tensors (the inverse of `memory_of`) and the state's."""
    named = {"memory_states": memory.states, "memory_mask": memory.mask, "memory_final": memory.final,
             "memory_cache": memory.cache, **flatten_state(state)}
    return {k: v for k, v in named.items() if v is not None}


def memory_of(named: dict[str, Tensor]) -> Memory:
    return Memory(named.get("memory_states"), named.get("memory_mask"), named.get("memory_final"),   # type: ignore
                  named.get("memory_cache"))


class EncoderGraph(nn.Module):
    """src, src_lengths → memory tensors + initial decoder state tensors (the order of `output_names`)."""

    def __init__(self, model: Seq2Seq):
        super().__init__()
        self.encoder, self.decoder = MaskedEncoder(model.encoder), model.decoder
        self.memory_names = [s.name for s in memory_specs(model)]
        self.state_names = [s.name for s in state_specs(model)]

    @property
    def output_names(self) -> list[str]:
        return self.memory_names + self.state_names

    def forward(self, src: Tensor, src_lengths: Tensor) -> tuple[Tensor, ...]:
        memory = self.decoder.prepare(self.encoder(src, src_lengths))
        state = self.decoder.init_state(memory)
        if "att_time" in self.state_names:   # a tensor, so that the step graph can count
            state.attention.time = src_lengths.new_zeros(1)                   # (1,)
        named = flatten_start(memory, state)
        return tuple(named[n] for n in self.output_names)


class StepGraph(nn.Module):
    """y_prev, state tensors, memory tensors → logp, attention (attention decoders), next state tensors."""

    def __init__(self, model: Seq2Seq):
        super().__init__()
        self.decoder, self.head = model.decoder, model.head
        self.state_names = [s.name for s in state_specs(model)]
        self.memory_names = step_memory_names(model)

    @property
    def input_names(self) -> list[str]:
        return ["y_prev"] + self.state_names + self.memory_names

    @property
    def output_names(self) -> list[str]:
        return ["logp"] + (["attention"] if self.decoder.has_attention else []) + [NEXT + n for n in self.state_names]

    def forward(self, y_prev: Tensor, *tensors: Tensor) -> tuple[Tensor, ...]:
        named = dict(zip(self.state_names + self.memory_names, tensors))
        out, state, weights = self.decoder.step(y_prev, unflatten_state(named), memory_of(named))
        logp = self.head.log_probs(out)                                       # (rows, vocab)
        flat = flatten_state(state)
        return (logp, *([weights] if weights is not None else []), *(flat[n] for n in self.state_names))


def check_exportable(run: Run, run_dir: Path) -> None:
    """A run of an exportable task (`Task.exportable`) without pyramid layers, or a one-line error."""
    from ..tasks import TASKS

    if not run.task.exportable:
        able = ", ".join(name for name, task in TASKS.items() if task.exportable)
        raise UserError(f"{run_dir} is a {run.config.task} run: export supports {able} runs only")
    if run.config.model.encoder.pyramid:
        raise UserError(f"{run_dir}: export does not support pyramid encoder layers (model.encoder.pyramid)")


def _example_inputs(model: Seq2Seq, batch: int = 3, src_len: int = 7) -> tuple[Tensor, Tensor]:
    # distinct sizes, none 0 or 1: exporters must not mistake a dynamic axis for a constant
    src = torch.randint(4, model.encoder.frontend.embedding.num_embeddings, (batch, src_len))
    lengths = torch.tensor([src_len] + [max(1, src_len - 2 - i) for i in range(batch - 1)])
    return src, lengths


def _dynamic_axes(specs: list[TensorSpec]) -> dict[str, dict[int, str]]:
    return {s.name: {i: a for i, a in enumerate(s.shape) if isinstance(a, str)} for s in specs}


def to_onnx(module: nn.Module, args: tuple[Tensor, ...], inputs: list[TensorSpec], outputs: list[TensorSpec],
            exporter: str) -> bytes:
    """The module as a serialised ONNX model with dynamic ROWS / SRC_LEN axes (quietly: no progress lines)."""
    names_in, names_out = [s.name for s in inputs], [s.name for s in outputs]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            buffer = io.BytesIO()
            torch.onnx.export(module, args, buffer, dynamo=False, input_names=names_in, output_names=names_out,
                              dynamic_axes=_dynamic_axes(inputs + outputs), opset_version=OPSET,
                              do_constant_folding=True)
            return buffer.getvalue()
        dims = {a: torch.export.Dim(a) for a in (ROWS, SRC_LEN)}
        shapes = tuple({i: dims[a] for i, a in enumerate(s.shape) if isinstance(a, str)} or None for s in inputs)
        if isinstance(module, StepGraph):                             # forward(y_prev, *tensors)
            shapes = (shapes[0], shapes[1:])
        program = torch.onnx.export(module, args, dynamo=True, input_names=names_in, output_names=names_out,
                                    dynamic_shapes=shapes, opset_version=OPSET, external_data=False, verbose=False)
        return program.model_proto.SerializeToString()


def export_graphs(model: Seq2Seq, exporter: str = "torchscript") -> tuple[bytes, bytes]:
    """The encoder graph and the decoder step graph of `model` (fp32, eval mode), checked by `verify_graphs`."""
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r} (one of {', '.join(EXPORTERS)})")
    model = model.float().eval()
    states, memory = state_specs(model), memory_specs(model)
    src, lengths = _example_inputs(model)
    encoder_graph = EncoderGraph(model).eval()
    inputs = [TensorSpec("src", (ROWS, SRC_LEN), 0, "int64"), TensorSpec("src_lengths", (ROWS,), 0, "int64")]
    encoder = to_onnx(encoder_graph, (src, lengths), inputs, memory + states, exporter)
    with torch.no_grad():
        start = dict(zip(encoder_graph.output_names, encoder_graph(src, lengths)))
    step_graph = StepGraph(model).eval()
    by_name = {s.name: s for s in memory}
    step_in = [TensorSpec("y_prev", (ROWS,), 0, "int64"), *states, *(by_name[n] for n in step_graph.memory_names)]
    step_out = [TensorSpec("logp", (ROWS, model.head.vocab_size), 0, "float32")]
    if model.decoder.has_attention:
        step_out.append(TensorSpec("attention", (ROWS, SRC_LEN), 0, "float32"))
    step_out += [TensorSpec(NEXT + s.name, s.shape, s.batch_dim, s.dtype) for s in states]
    y_prev = torch.full((src.size(0),), BOS, dtype=torch.long)
    step = to_onnx(step_graph, (y_prev, *(start[s.name] for s in step_in[1:])), step_in, step_out, exporter)
    verify_graphs(model, encoder, step, exporter)
    return encoder, step


def reference_start(model: Seq2Seq, src: Tensor, lengths: Tensor) -> dict[str, Tensor]:
    """What the encoder graph must write, computed by PyTorch's own (packed) encoder."""
    memory = model.decoder.prepare(model.encode(src, lengths))
    named = flatten_start(memory, model.decoder.init_state(memory))
    if any(s.name == "att_time" for s in state_specs(model)):
        named["att_time"] = torch.zeros(1, dtype=torch.long)
    return named


@torch.no_grad()
def verify_graphs(model: Seq2Seq, encoder: bytes, step: bytes, exporter: str, steps: int = 3,
                  atol: float = 1e-4) -> None:
    """Run both graphs on onnxruntime at shapes other than the export's example (batch 2, a padded row) and compare
    every output with PyTorch — the packed encoder, then `Decoder.step` + `log_probs` fed the same state for a few
    steps. A wrong graph (an axis fixed to the example's size, a wrong RNN) is a UserError, never a model that
    silently computes something else."""
    import onnxruntime as ort

    from .onnx_runtime import session_options

    options = session_options(1)
    enc, dec = (ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"]) for graph in (encoder, step))
    src, lengths = _example_inputs(model, batch=2, src_len=9)
    expected = reference_start(model, src, lengths)
    names = list(expected)
    got = dict(zip(names, enc.run(names, {"src": src.numpy(), "src_lengths": lengths.numpy()})))
    graph = StepGraph(model).eval()
    feeds = {n: v for n, v in expected.items()}
    y = torch.full((2,), BOS, dtype=torch.long)
    for t in range(steps + 1):
        worst = max(_difference(got[n], expected[n]) for n in expected)
        if not worst <= atol:
            other = "dynamo" if exporter == "torchscript" else "torchscript"
            where = "in the encoder" if t == 0 else f"at decoder step {t}"
            raise UserError(f"the {exporter} exporter got this model wrong (largest difference from PyTorch "
                            f"{worst:.3g} {where}); try --exporter {other}")
        if t == steps:
            break
        inputs = [y if n == "y_prev" else feeds[n] for n in graph.input_names]
        expected = dict(zip(graph.output_names, graph(*inputs)))
        got = dict(zip(graph.output_names, dec.run(graph.output_names, {n: v.numpy() for n, v in
                                                                         zip(graph.input_names, inputs)})))
        feeds.update({n[len(NEXT):]: v for n, v in expected.items() if n.startswith(NEXT)})
        y = expected["logp"].argmax(-1)


def _difference(got, expected: Tensor) -> float:
    """Largest absolute difference (inf where one is infinite and the other not, or the shapes differ)."""
    import numpy as np

    want = expected.numpy()
    if got.shape != want.shape:
        return float("inf")
    if want.dtype == np.bool_:
        return 0.0 if np.array_equal(got, want) else float("inf")
    if not np.array_equal(np.isinf(got), np.isinf(want)):
        return float("inf")
    finite = np.isfinite(want)
    return float(np.abs(got[finite].astype(np.float64) - want[finite].astype(np.float64)).max(initial=0.0))


def exporter_versions(exporter: str) -> dict[str, str]:
    import onnx

    versions = {"seq2seq": __version__, "torch": torch.__version__, "onnx": onnx.__version__}
    if exporter == "dynamo":
        import onnxscript

        versions["onnxscript"] = onnxscript.__version__
    return versions


def manifest(run: Run, exporter: str, tokenizer_files: list[str]) -> dict[str, Any]:
    model, config = run.model, run.config
    spec = lambda s: {**asdict(s), "shape": list(s.shape)}
    return {
        "format_version": EXPORT_FORMAT, "task": config.task, "decoder": config.model.decoder.family,
        "encoder": {"inputs": ["src", "src_lengths"], "outputs": [s.name for s in memory_specs(model)]
                    + [s.name for s in state_specs(model)]},
        "state": [spec(s) for s in state_specs(model)],
        "memory": [spec(s) for s in memory_specs(model)],
        "step": {"inputs": ["y_prev"] + [s.name for s in state_specs(model)] + step_memory_names(model),
                 "outputs": ["logp"] + (["attention"] if model.decoder.has_attention else [])
                 + [NEXT + s.name for s in state_specs(model)]},
        "has_attention": model.decoder.has_attention,
        "vocab_size": {"src": run.vocab[0].vocab_size, "tgt": run.vocab[1].vocab_size},
        "special_ids": {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
        "never_generated": ["pad", "bos"],
        "max_src_len": config.model.max_src_len,
        "search_defaults": config.decode.model_dump(mode="json"),
        "tokenizer": tokenizer_files,
        "opset": OPSET, "exporter": exporter, "versions": exporter_versions(exporter),
    }


def export_run(run_dir: str | Path, out_dir: str | Path, which: str = "best", exporter: str = "torchscript") -> Path:
    """Write the export of a translation run to `out_dir` (created; files there with the same names replaced)."""
    require_onnx()
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    run = load_run(run_dir, which, "cpu")
    check_exportable(run, run_dir)
    if out_dir.is_file() or (out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file()):
        raise UserError(f"{out_dir} exists and is not an export directory: export into a new folder")
    encoder, step = export_graphs(run.model, exporter)
    (out_dir / MANIFEST).unlink(missing_ok=True)                 # no manifest until the new export is whole
    write_atomic(out_dir / ENCODER, encoder)
    write_atomic(out_dir / STEP, step)
    source, target = RunDir(run_dir), RunDir(out_dir)        # an export keeps a run's config and tokenizer layout
    write_atomic(out_dir / CONFIG, source.config.read_bytes())
    tokenizers = sorted(p for p in source.tokenizer.iterdir() if p.is_file())
    if target.tokenizer.is_dir():                      # an earlier export's (joint.* beside src.*, ...)
        for stale in target.tokenizer.iterdir():
            stale.unlink()
    for path in tokenizers:
        write_atomic(target.tokenizer / path.name, path.read_bytes())
    files = [f"{target.tokenizer.name}/{p.name}" for p in tokenizers]
    write_atomic(out_dir / MANIFEST, json.dumps(manifest(run, exporter, files), indent=1).encode("utf-8"))
    return out_dir
