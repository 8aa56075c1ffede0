"""precision="bf16" really changes the arithmetic: the matrix products run in bfloat16 (seen by forward hooks on
the linear layers), so logits and scores move a little away from fp32 — never by nothing, never by much. Each of
teacher forcing, decoding and training is checked, so a bf16 that silently runs fp32 anywhere fails here."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from seq2seq.data.batching import make_batch
from seq2seq.devices import precision_context
from seq2seq.search import SearchOptions, decode_all
from seq2seq.training.train import train
from helpers import FAMILIES, random_pairs, tiny_model, toy_config


@contextlib.contextmanager
def linear_output_dtypes(model: nn.Module | None = None):
    """Collect the dtype of every nn.Linear output: of `model`'s layers, or of any model's (global hook)."""
    seen: list[torch.dtype] = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Linear) and isinstance(output, torch.Tensor):
            seen.append(output.dtype)

    if model is None:
        handles = [nn.modules.module.register_module_forward_hook(hook)]
    else:
        handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        yield seen
    finally:
        for h in handles:
            h.remove()


def test_bf16_teacher_forcing_runs_linear_layers_in_bfloat16_and_moves_the_logits_a_little():
    model = tiny_model(FAMILIES["luong-concat"], seed=3)
    src, tgt = random_pairs(6, seed=2)
    batch = make_batch(src, tgt)
    with torch.no_grad(), linear_output_dtypes(model) as fp32_dtypes:
        fp32, _ = model.teacher_forced(batch)
    with torch.no_grad(), precision_context("bf16", "cpu"), linear_output_dtypes(model) as bf16_dtypes:
        bf16, _ = model.teacher_forced(batch)
    assert fp32_dtypes and set(fp32_dtypes) == {torch.float32}
    assert torch.bfloat16 in bf16_dtypes, f"no linear layer ran in bfloat16 under bf16: {set(bf16_dtypes)}"
    difference = float((bf16.float() - fp32).abs().max())
    assert 0 < difference < 0.1, difference        # bfloat16 keeps ~3 significant digits: small, never zero


def test_bf16_decoding_runs_in_bfloat16_and_its_scores_differ_slightly_from_fp32():
    model = tiny_model(FAMILIES["bahdanau"], seed=4)
    srcs, _ = random_pairs(12, seed=5)
    results = {}
    for precision in ("fp32", "bf16"):
        for beam in (1, 3):
            opts = SearchOptions(beam_size=beam, precision=precision, max_len_a=1.0, max_len_b=2)
            with linear_output_dtypes(model) as dtypes:
                results[precision, beam] = decode_all(model, srcs, opts, batch_size=4)
            want = torch.float32 if precision == "fp32" else torch.bfloat16
            assert want in dtypes, (precision, beam, set(dtypes))
            if precision == "fp32":
                assert set(dtypes) == {torch.float32}
    for beam in (1, 3):
        differences = [abs(a[0].score - b[0].score)
                       for a, b in zip(results["fp32", beam], results["bf16", beam]) if a[0].tokens == b[0].tokens]
        assert len(differences) >= len(srcs) // 2     # mostly the same outputs ...
        assert max(differences) > 0                   # ... with scores computed differently ...
        assert max(differences) < 0.2                 # ... but close
        assert all(isinstance(h[0].score, float) for h in results["bf16", beam])


def test_bf16_training_runs_the_products_in_bfloat16(tmp_path):
    config = toy_config("copy", FAMILIES["luong-general"], train_size=64, max_steps=2, valid_every=2,
                        batch_sentences=32, attention_plots=0, precision="bf16")
    config.model.embedding_size = 8
    config.model.encoder.hidden_size = 8
    config.model.decoder.hidden_size = 16
    config.data.synthetic.valid_size = 8
    steps: list[int] = []
    with linear_output_dtypes() as dtypes:
        train(config, tmp_path, verbose=False, on_step=lambda step, loss: steps.append(step))
    assert steps == [1, 2]
    assert torch.bfloat16 in dtypes, f"training with precision=bf16 ran no linear layer in bfloat16: {set(dtypes)}"
