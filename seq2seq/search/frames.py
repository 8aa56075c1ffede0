"""Frame generation: a frame head's decoder run free, each step feeding back its last frame, until the stop flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from ..model.encoder import lengths_mask
from ..model.seq2seq import Seq2Seq


@dataclass
class FrameOutput:
    frames: Tensor                # (n_frames, frame_size): every decoder step's `reduction` frames, up to the stop
    attention: Optional[Tensor]   # (steps, mem_len) or None (vanilla)
    stopped: bool                 # the stop flag ended it (False: it ran to the step limit)


@torch.no_grad()
def generate_frames(model: Seq2Seq, src: Tensor, src_lengths: Tensor, max_steps: int,
                    threshold: float, steps_per_token: Optional[int] = None) -> list[FrameOutput]:
    """Frame-head generation of a padded batch: each step feeds back its last predicted frame, until the stop
    probability passes `threshold` (that step's frames are kept) or the row's step limit — `max_steps`, or with
    `steps_per_token` at most that many steps per input token (+ one token's worth) — so generation always ends,
    and a short text never babbles for the length of a long one."""
    memory = model.decoder.prepare(model.encode(src, src_lengths))
    state = model.decoder.init_state(memory)
    batch = src.size(0)
    y = memory.final.new_zeros(batch, model.head.frame_size)                 # (batch, frame) the go-frame
    limit = torch.full((batch,), max_steps, dtype=torch.long)               # (batch,) steps each row may take
    if steps_per_token is not None:
        limit = limit.clamp(max=(src_lengths.cpu().long() + 1) * steps_per_token)
    last_step = limit - 1                                                    # (batch,) the step each row stops at
    running = torch.ones(batch, dtype=torch.bool)
    stopped = torch.zeros(batch, dtype=torch.bool)                         # (batch,) ended by the stop flag
    frames, attention = [], []
    for t in range(int(limit.max())):
        out, state, weights = model.decoder.step(y, state, memory)
        step_frames, stop = model.head.predict(out)                          # (batch, r, frame), (batch,)
        frames.append(step_frames)
        attention.append(weights)
        y = step_frames[:, -1].to(y.dtype)
        stops = running & (torch.sigmoid(stop).cpu() > threshold)
        last_step[stops] = t
        stopped |= stops
        running &= ~stops & (t + 1 < limit)                                  # a row at its limit ends, unstopped
        if not bool(running.any()):
            break
    every = torch.stack(frames, 1)                                           # (batch, steps, r, frame)
    n_frames = (last_step.to(every.device) + 1) * model.head.reduction       # (batch,)
    every = model.head.refine(every.flatten(1, 2), lengths_mask(n_frames, every.size(1) * every.size(2),
                                                                every.device)).view_as(every).cpu()
    maps = torch.stack(attention, 1).cpu() if attention[0] is not None else None   # (batch, steps, mem_len)
    lengths = memory.lengths.tolist()
    return [FrameOutput(every[i, : last_step[i] + 1].flatten(0, 1),
                        None if maps is None else maps[i, : last_step[i] + 1, : lengths[i]], bool(stopped[i]))
            for i in range(batch)]
