"""One core for every modality: frames in (speech_to_text), frames out (text_to_speech), location-aware attention
and decoder state that beam search reorders field by field."""

import pytest
import torch

from seq2seq.checkpoint import read_metrics
from seq2seq.config import validate
from seq2seq.data.batching import make_batch, make_frame_batch, pad_frames, pad_sources
from seq2seq.model.attention import AttentionState, build_attention
from seq2seq.model.decoder import DecoderState
from seq2seq.model.frontends import FrameFrontend
from seq2seq.search import SearchOptions, decode_all, generate_frames
from seq2seq.tasks import get_task
from seq2seq.tasks.frames import FramesVocab
from seq2seq.training.train import train
from helpers import FAMILIES, attend


def frames_config(task: str, model: dict, **train_overrides) -> dict:
    return {"task": task,
            "data": {"synthetic": {"train_size": 2000, "valid_size": 100, "symbols": 6, "max_len": 5, "seed": 3,
                                   **({"noise": 0.0, "min_frames": 2, "max_frames": 2} if task == "text_to_speech"
                                      else {})}},
            "tokenizer": {"type": "whitespace"},
            "model": {"embedding_size": 32, "encoder": {"hidden_size": 64, "dropout": 0.0}, **model},
            "train": {"epochs": 12, "batch_sentences": 32, "lr": 3e-3, "valid_every": 125, "patience": None,
                      "seed": 1, "attention_plots": 0, "threads": 1, **train_overrides},
            "decode": {"max_len_a": 1.0, "max_len_b": 3, "batch_size": 100}}


def test_frames_to_tokens_with_2x_stacking_learns_to_95_percent(tmp_path):
    """speech_to_text on generated 'speech' (each symbol a noisy pattern of 2-4 frames): ≥ 95% exact transcripts."""
    raw = frames_config("speech_to_text", {"frontend": {"stack": 2},
                                           "decoder": {"attention": "bahdanau", "hidden_size": 128, "dropout": 0.0}},
                        valid_metric="accuracy", stop_at=97.0)
    config = validate(raw)
    train(config, tmp_path, verbose=False)
    best = max(m["accuracy"] for m in read_metrics(tmp_path) if m["event"] == "valid")
    assert best >= 95.0, f"best validation exact match {best}%"
    # the memory is half as long as the input: the frontend's lengths travel into the attention maps
    task = get_task(config)
    model = task.build_model(task.load_vocab(tmp_path))
    frames = task.read_data()["valid"].frames[:4]
    hyps = decode_all(model.eval(), frames, SearchOptions(), batch_size=4, collate=pad_frames)
    for f, h in zip(frames, hyps):
        assert h[0].attention.shape[1] == (len(f) + 1) // 2


def test_tokens_to_frames_with_r2_learns_frames_and_when_to_stop(tmp_path):
    """text_to_speech on generated 'speech' (each symbol a fixed 2-frame pattern), 2 frames per step: low L1, and the
    stop flag ends free-running generation at the reference length in ≥ 95% of cases."""
    raw = frames_config("text_to_speech", {"head": {"reduction": 2, "prenet_size": 32, "prenet_dropout": 0.2},
                                           "decoder": {"attention": "bahdanau", "score": "location",
                                                       "hidden_size": 128, "dropout": 0.0}},
                        epochs=3)
    train(validate(raw), tmp_path, verbose=False)
    last = [m for m in read_metrics(tmp_path) if m["event"] == "valid"][-1]
    assert last["length_match"] >= 95.0 and last["stop_error"] < 5.0, last
    assert last["free_l1"] < 0.25 and last["l1"] < 0.25, last    # the patterns are N(0, 1): mean |x| ≈ 0.8


def test_frame_frontend_stacks_and_shortens_lengths():
    frontend = FrameFrontend(3, 5, stack=2)
    frames, lengths, _ = pad_frames([torch.randn(5, 3), torch.randn(2, 3)])
    out, new = frontend(frames, lengths)
    assert out.shape == (2, 3, 5) and new.tolist() == [3, 1]
    # stacked vectors are neighbouring frames side by side: the first output sees frames 0 and 1 only
    torch.testing.assert_close(out[0, 0], frontend.projection(frames[0, :2].reshape(-1)))


@pytest.mark.parametrize("tacotron2", [False, True], ids=["plain", "convs+postnet"])
def test_frame_batches_pad_without_changing_the_loss(tacotron2):
    """A frame target alone or beside longer ones: the same summed loss (padding frames never count) — also with
    the encoder's convolutions and the postnet, which see neighbouring positions."""
    extra = {"frontend": {"conv_layers": 2, "kernel": 3}} if tacotron2 else {}
    head = {"postnet_layers": 3, "postnet_channels": 16} if tacotron2 else {}
    task = get_task(validate(frames_config("text_to_speech", {"head": {"reduction": 3, "prenet_dropout": 0.0, **head},
                                                              **extra})))
    torch.manual_seed(0)
    model = task.build_model(FramesVocab(type("T", (), {"vocab_size": 9})())).eval()
    src = [[4, 5, 6], [7, 8]]
    tgt = [torch.randn(7, 8), torch.randn(3, 8)]
    with torch.no_grad():
        together = float(model(make_frame_batch(src, tgt, 3)))
        alone = sum(float(model(make_frame_batch([s], [t], 3))) for s, t in zip(src, tgt))
    assert abs(together - alone) < 1e-4
    batch = make_frame_batch(src, tgt, 3)
    assert batch.n_tokens == 3 + 1 and batch.stop_target.tolist() == [[False, False, True], [True, False, False]]
    # the frames that only round the last step up to r = 3 count for nothing either, whatever they hold
    noisy = make_frame_batch(src, tgt, 3)
    padding = ~noisy.frame_mask.view(2, -1, 3).unsqueeze(-1).expand(-1, -1, -1, 8).reshape(noisy.tgt_out.shape)
    noisy.tgt_out[padding] = 100.0
    with torch.no_grad():
        assert abs(float(model(noisy)) - together) < 1e-4


def test_frame_sources_encode_the_same_alone_or_in_a_batch():
    task = get_task(validate(frames_config("speech_to_text", {"frontend": {"stack": 2}})))
    torch.manual_seed(1)
    model = task.build_model(FramesVocab(type("T", (), {"vocab_size": 9})())).eval()
    src = [torch.randn(9, 8), torch.randn(4, 8)]
    with torch.no_grad():
        together = model.teacher_forced(make_batch(src, [[4, 5], [6]]))[0]
        alone = model.teacher_forced(make_batch(src[1:], [[6]]))[0]
    torch.testing.assert_close(together[1, :2], alone[0, :2], rtol=0, atol=1e-5)


def test_location_attention_reads_the_previous_weights():
    torch.manual_seed(2)
    attention = build_attention("location", 6, 6, 5)
    keys, query = torch.randn(2, 7, 6), torch.randn(2, 1, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3], dtype=torch.bool)
    _, first, state = attend(attention, query, keys, mask)
    torch.testing.assert_close(first.sum(-1), torch.ones(2, 1))
    assert (first[1, 0, 4:] == 0).all()
    torch.testing.assert_close(state.previous, first[:, 0])
    torch.testing.assert_close(state.cumulative, first[:, 0])
    from seq2seq.model.encoder import Memory

    memory = Memory(keys, mask, keys[:, 0])
    _, second, state2 = attention(query, memory, state)
    assert not torch.allclose(second, first)          # same query, other history: other weights
    torch.testing.assert_close(state2.cumulative, first[:, 0] + second[:, 0])
    assert state2.time == 2


def test_decoder_state_select_reorders_every_field():
    rows = torch.tensor([2, 0])
    weights = torch.arange(12.0).view(3, 4)
    state = DecoderState(torch.arange(6.0).view(1, 3, 2), torch.arange(6.0).view(1, 3, 2) + 10,
                         torch.arange(3.0)[:, None], AttentionState(5, weights, weights * 2))
    picked = state.select(rows)
    assert picked.hidden[0, :, 0].tolist() == [4.0, 0.0] and picked.cell[0, :, 0].tolist() == [14.0, 10.0]
    assert picked.feed[:, 0].tolist() == [2.0, 0.0]
    assert torch.equal(picked.attention.previous, weights[rows])
    assert torch.equal(picked.attention.cumulative, weights[rows] * 2) and picked.attention.time == 5


def test_generation_ends_at_each_rows_own_step_limit_per_input_token_and_says_it_did_not_stop():
    task = get_task(validate(frames_config("text_to_speech", {"head": {"reduction": 2}})))
    torch.manual_seed(2)
    model = task.build_model(FramesVocab(type("T", (), {"vocab_size": 9})())).eval()
    src, lengths, _ = pad_sources([[4, 5], [4, 5, 6, 7, 8]])
    never = generate_frames(model, src, lengths, max_steps=100, threshold=1.1, steps_per_token=3)
    assert [len(o.frames) for o in never] == [2 * 3 * 3, 2 * 3 * 6] and not any(o.stopped for o in never)
    capped = generate_frames(model, src, lengths, max_steps=10, threshold=1.1, steps_per_token=3)
    assert [len(o.frames) for o in capped] == [2 * 9, 2 * 10]
    always = generate_frames(model, src, lengths, max_steps=10, threshold=-0.1, steps_per_token=3)
    assert [len(o.frames) for o in always] == [2, 2] and all(o.stopped for o in always)
