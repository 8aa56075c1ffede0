"""Decoding over onnxruntime: an export directory (`export/graphs.py`) behind search's `Decodable` protocol.

    model = OnnxModel("exports/demo")                      # two InferenceSessions: encoder, decoder step
    decode_all(model, sources, opts, batch_size=64)       # the very same greedy and beam search as PyTorch's
    translator = onnx_translator("exports/demo")          # `Translator` over it: text in, text out

The state search carries is flat named tensors (`OnnxState`): the memory tensors the encoder graph wrote and the
decoder state tensors the step graph reads and returns (`next_NAME`), each with the axis that indexes rows, from the
manifest. Arrays cross between onnxruntime and torch without copies (`torch.from_numpy`, `Tensor.numpy`); beam
search's row selection is `index_select` on them. Sessions never spin their threads between calls: torch runs there.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
import torch
from torch import Tensor

from ..errors import UserError
from .layout import ENCODER, EXPORT_FORMAT, MANIFEST, NEXT, STEP, require_onnx


@dataclass
class OnnxState:
    memory: dict[str, Tensor]     # encoder outputs, rows along axis 0: states, mask, final state, attention cache
    decoder: dict[str, Tensor]    # decoder state tensors (hidden, cell, feed, att_*), rows along their batch axis


def read_manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / MANIFEST
    if not export_dir.is_dir():
        raise UserError(f"export directory not found: {export_dir}")
    if not path.is_file():
        raise UserError(f"{export_dir}: not an export directory ({MANIFEST} missing; write one with "
                        f"`seq2seq export RUN_DIR -o {export_dir}`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}: unreadable manifest") from None
    if version != EXPORT_FORMAT:
        raise UserError(f"{export_dir}: export format {version} is not supported (reads format {EXPORT_FORMAT})")
    return manifest


def session_options(threads: Optional[int] = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")   # torch works between our calls
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    options.log_severity_level = 3                                              # errors only, no shape notes
    if threads:
        options.intra_op_num_threads = threads
    return options


class OnnxModel:
    """An exported model on onnxruntime's CPU provider, decoded by `search.greedy` / `beam_search` / `decode_all`."""

    reduction = 1    # token inputs: one encoder state per source token

    def __init__(self, export_dir: str | Path, threads: Optional[int] = None):
        require_onnx()
        import onnxruntime as ort

        self.dir = Path(export_dir)
        self.manifest = read_manifest(self.dir)
        options = session_options(threads)
        try:
            self.encoder = ort.InferenceSession(str(self.dir / ENCODER), options, providers=["CPUExecutionProvider"])
            self.step_session = ort.InferenceSession(str(self.dir / STEP), options,
                                                     providers=["CPUExecutionProvider"])
        except Exception as exc:   # onnxruntime raises its own exception types for missing and broken files
            raise UserError(f"{self.dir}: cannot load the exported graphs ({str(exc).strip()[:200]})") from None
        self.has_attention = bool(self.manifest["has_attention"])
        self.row_axis = {s["name"]: s["batch_dim"] for s in self.manifest["state"]}
        self.memory_names = [s["name"] for s in self.manifest["memory"]]
        self.encoder_outputs = self.manifest["encoder"]["outputs"]
        self.step_inputs = self.manifest["step"]["inputs"]            # y_prev, state names, memory names
        self.step_outputs = self.manifest["step"]["outputs"]          # logp, [attention], next_ state names

    def start(self, src: Tensor, src_lengths: Tensor) -> OnnxState:
        """src (batch, src_len) ids, src_lengths (batch,) → the memory and the initial decoder state."""
        feeds = {"src": _array(src.long()), "src_lengths": _array(src_lengths.long())}
        named = dict(zip(self.encoder_outputs, self.encoder.run(self.encoder_outputs, feeds)))
        tensors = {name: torch.from_numpy(value) for name, value in named.items()}
        return OnnxState({n: tensors[n] for n in self.memory_names},
                         {n: tensors[n] for n in self.row_axis})

    def step(self, y_prev: Tensor, states: OnnxState) -> tuple[Tensor, OnnxState, Optional[Tensor]]:
        """y_prev (rows,) → log-probabilities (rows, vocab), the next state, attention (rows, src_len) or None."""
        known = {**states.memory, **states.decoder, "y_prev": y_prev.long()}
        feeds = {name: _array(known[name]) for name in self.step_inputs}
        out = dict(zip(self.step_outputs, self.step_session.run(self.step_outputs, feeds)))
        decoder = {name: torch.from_numpy(out[NEXT + name]) for name in self.row_axis}
        attention = torch.from_numpy(out["attention"]) if self.has_attention else None
        return torch.from_numpy(out["logp"]), OnnxState(states.memory, decoder), attention

    @staticmethod
    def memory_lengths(states: OnnxState) -> list[int]:
        return states.memory["memory_mask"].sum(1).tolist()

    def select(self, states: OnnxState, rows: Tensor) -> OnnxState:
        memory = {name: value.index_select(0, rows) for name, value in states.memory.items()}
        return OnnxState(memory, self._select_decoder(states.decoder, rows))

    def select_decoder(self, states: OnnxState, rows: Tensor) -> OnnxState:
        """Reorder the decoder state only (rows moving among the beams of one sentence share their memory)."""
        return OnnxState(states.memory, self._select_decoder(states.decoder, rows))

    def _select_decoder(self, decoder: dict[str, Tensor], rows: Tensor) -> dict[str, Tensor]:
        axis = self.row_axis
        return {name: value if axis[name] is None else value.index_select(axis[name], rows)
                for name, value in decoder.items()}

    @contextmanager
    def evaluating(self) -> Iterator["OnnxModel"]:
        yield self


def _array(tensor: Tensor) -> np.ndarray:
    """A CPU tensor as a contiguous numpy array sharing its memory (a copy only when it is not contiguous)."""
    return tensor.detach().cpu().contiguous().numpy()


def onnx_translator(export_dir: str | Path, threads: Optional[int] = None):
    """A `Translator` decoding over onnxruntime with the export's tokenizers and the run's search defaults."""
    import yaml

    from ..config import validate
    from ..data.text.tokenizers import load_tokenizers
    from ..inference.translator import Translator
    from ..rundir import RunDir
    from .layout import CONFIG

    model = OnnxModel(export_dir, threads)
    path = model.dir / CONFIG
    try:
        config = validate(yaml.safe_load(path.read_text(encoding="utf-8")), origin=str(path))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: unreadable config ({type(exc).__name__})") from None
    src_tok, tgt_tok = load_tokenizers(RunDir(model.dir).tokenizer)
    return Translator(config, None, src_tok, tgt_tok, "cpu", decodable=model)
