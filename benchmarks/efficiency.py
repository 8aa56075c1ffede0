"""How close training comes to the hardware: achieved GFLOP/s against the machine's fp32 matmul peak.

    .venv/bin/python benchmarks/efficiency.py [--threads 2] [--size 2048]

FLOPs per target token are counted analytically from the reference configuration and the mean Multi30k de→en
lengths (see `count`): every matrix product of the forward pass as multiply-adds (1 MAC = 2 FLOP), training = 3x the
forward (the backward pass computes a gradient for both operands of each product). Element-wise work (gate
non-linearities, tanh of the concat score, softmax) is not counted: it is a small share of the FLOPs but not of the
time. Peak: the median GFLOP/s of a SIZE x SIZE fp32 torch.mm at the same thread count. Throughput: the reference
row of benchmarks/results/train_throughput.json (run that first), else a fresh 100-update measurement.
Writes benchmarks/results/efficiency.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def count(model_cfg, src_vocab: int, tgt_vocab: int, src_len: float, tgt_len: float) -> dict[str, float]:
    """Forward multiply-adds per target token, by component. src_len / tgt_len: mean real lengths (target with
    EOS = decoder steps per sentence)."""
    enc, dec, E = model_cfg.encoder, model_cfg.decoder, model_cfg.embedding_size
    dirs = 2 if enc.bidirectional else 1
    gates = {"gru": 3, "lstm": 4}
    M = dirs * enc.hidden_size                                     # memory (encoder state) size
    H = dec.hidden_size
    A = dec.attention_size or H
    per_src = src_len / tgt_len                                    # source tokens per target token
    out: dict[str, float] = {}
    rnn_in = E
    encoder = 0.0
    for _ in range(enc.layers):                                    # per source token, per layer, per direction
        encoder += dirs * gates[enc.rnn] * (rnn_in * enc.hidden_size + enc.hidden_size ** 2)
        rnn_in = M
    out["encoder RNN"] = encoder * per_src
    out["bridge (once per sentence)"] = M * H / tgt_len if model_cfg.bridge == "linear" else 0.0
    family = dec.attention
    O = E if model_cfg.tie_embeddings else H                       # attentional / output-feature size
    feed = O if family == "luong" and dec.feeds_input else 0
    if family == "vanilla":
        dec_in = E + M
    elif family == "bahdanau":
        dec_in = E + M
    else:
        dec_in = E + feed
    decoder = 0.0
    for layer in range(dec.layers):
        decoder += gates[dec.rnn] * ((dec_in if layer == 0 else H) * H + H * H)
    out["decoder RNN"] = decoder
    if family != "vanilla":
        score = dec.luong_score if family == "luong" else "concat"
        if score == "concat":
            out["attention: keys projected once per sentence"] = M * A * per_src
            out["attention: query projection"] = H * A
            out["attention: scores (v · tanh)"] = src_len * A
        elif score == "general":
            out["attention: keys projected once per sentence"] = M * H * per_src
            out["attention: scores"] = src_len * H
        else:
            out["attention: scores"] = src_len * M
        out["attention: context"] = src_len * M
    if family == "luong":
        out["attentional state tanh(W_c[c;h])"] = (M + H) * O
    else:
        out["output layer tanh(W[s;c;e])"] = (H + M + E) * O
    out["softmax layer (generator)"] = O * tgt_vocab
    return out


def matmul_peak(threads: int, size: int, repeat: int = 10, dtype: str = "float32") -> float:
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size, dtype=getattr(torch, dtype)), torch.randn(size, size, dtype=getattr(torch, dtype))
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        rates.append(2 * size ** 3 / (time.perf_counter() - t0) / 1e9)
    return common.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=2048)
    args = ap.parse_args()
    from seq2seq.checkpoint import tokenizers_of
    from seq2seq.data.text.pipeline import encode_data, load_corpora

    config = common.reference_config()
    src_tok, tgt_tok = tokenizers_of(common.tokenizer_run())
    data = encode_data(config, load_corpora(config), src_tok, tgt_tok)
    src_len = sum(map(len, data.train_src)) / len(data.train_src)
    tgt_len = sum(len(t) + 1 for t in data.train_tgt) / len(data.train_tgt)
    parts = count(config.model, src_tok.vocab_size, tgt_tok.vocab_size, src_len, tgt_len)
    forward_macs = sum(parts.values())
    train_flops = 3 * 2 * forward_macs
    peak = matmul_peak(args.threads, args.size)
    measured = common.RESULTS / "train_throughput.json"
    tok_s = None
    if measured.is_file():
        rows = json.loads(measured.read_text())
        if rows.get("threads") == args.threads:
            tok_s = rows["rows"][0]["tokens_per_s"]
            source = f"{measured.relative_to(common.REPO)} (commit {rows['machine']['commit']})"
    if tok_s is None:
        name = next(iter(__import__("train_throughput").VARIANTS))
        tok_s = common.run_child("train_throughput.py", ["--variant", name, "--threads", str(args.threads),
                                                         "--steps", "100", "--window", "20"])["tokens_per_s"]
        source = "fresh 100-update run"
    achieved = tok_s * train_flops / 1e9
    limit = peak * 1e9 / train_flops
    # bf16 (train.precision=bf16): the same count against the bfloat16 matmul peak
    peak_bf16 = matmul_peak(args.threads, args.size, dtype="bfloat16")
    tok_s_bf16 = None
    if measured.is_file() and rows.get("threads") == args.threads:
        tok_s_bf16 = next((r["tokens_per_s"] for r in rows["rows"] if "bf16" in r["variant"]), None)
    achieved_bf16 = None if tok_s_bf16 is None else tok_s_bf16 * train_flops / 1e9
    table = [[k, round(v / 1e6, 3), f"{100 * v / forward_macs:.1f}%"] for k, v in parts.items()]
    table.append(["total forward", round(forward_macs / 1e6, 3), "100%"])
    text = common.table(["component", "forward MMAC / target token", "share"], table)
    text += (f"\n\nmean lengths: source {src_len:.2f}, target {tgt_len:.2f} (EOS included); vocabularies "
             f"{src_tok.vocab_size:,} / {tgt_tok.vocab_size:,}\n"
             f"training: {train_flops / 1e6:.1f} MFLOP per target token (3 x forward, 2 FLOP per MAC)\n"
             f"fp32 matmul peak, {args.size}², {args.threads} threads: {peak:.1f} GFLOP/s "
             f"→ hardware limit {limit:,.0f} target tokens/s\n"
             f"measured training throughput: {tok_s:,.0f} tokens/s ({source}) → {achieved:.1f} GFLOP/s = "
             f"{100 * achieved / peak:.1f}% of peak\n"
             f"bf16 matmul peak, {args.size}², {args.threads} threads: {peak_bf16:.1f} GFLOP/s → hardware limit "
             f"{peak_bf16 * 1e9 / train_flops:,.0f} target tokens/s")
    if achieved_bf16 is not None:
        text += (f"\nmeasured bf16 training throughput: {tok_s_bf16:,.0f} tokens/s → {achieved_bf16:.1f} GFLOP/s = "
                 f"{100 * achieved_bf16 / peak_bf16:.1f}% of the bf16 peak, {100 * achieved_bf16 / peak:.1f}% of "
                 f"the fp32 peak")
    common.save("efficiency", {"threads": args.threads, "matmul_size": args.size, "peak_gflops": round(peak, 1),
                               "forward_macs_per_token": {k: round(v) for k, v in parts.items()},
                               "train_mflop_per_token": round(train_flops / 1e6, 2), "src_len": round(src_len, 3),
                               "tgt_len": round(tgt_len, 3), "tokens_per_s": tok_s,
                               "throughput_source": source, "achieved_gflops": round(achieved, 1),
                               "share_of_peak": round(achieved / peak, 3),
                               "hardware_limit_tokens_per_s": round(limit), "peak_gflops_bf16": round(peak_bf16, 1),
                               "tokens_per_s_bf16": tok_s_bf16,
                               "achieved_gflops_bf16": None if achieved_bf16 is None else round(achieved_bf16, 1),
                               "hardware_limit_tokens_per_s_bf16": round(peak_bf16 * 1e9 / train_flops)}, text)


if __name__ == "__main__":
    main()
