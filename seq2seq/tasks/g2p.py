"""A grapheme-to-phoneme model: a translation run trained on a pronouncing dictionary (`configs/cmudict_g2p.yaml`:
spelled words → ARPAbet), loaded as the phonemiser's answer for words the dictionary lacks.

    g2p = load_g2p(Path("runs/cmudict_g2p"))
    g2p(["subiaco", "caslon"])        # [['S', 'UW0', 'B', 'IY0', 'AA1', 'K', 'OW0'], ['K', 'AE1', 'S', ...]]
"""

from __future__ import annotations

from pathlib import Path

import torch

from .. import checkpoint as ckpt
from ..config import TranslationConfig
from ..data.text.lexicon import spelled
from ..data.text.phonemes import G2P, register_g2p_loader
from ..errors import UserError
from ..search import decode_all, search_options
from .translation import TranslationTask

BEAM = 5                 # the G2P model's search (its own decode section's batch size and length limits)


def load_g2p(run_dir: Path) -> G2P:
    """The words → phonemes function of a G2P run directory (best weights, CPU, beam search)."""
    config = ckpt.read_config(run_dir)
    if not isinstance(config, TranslationConfig):
        raise UserError(f"tokenizer.g2p={run_dir} is a {config.task} run: a G2P model is a text-to-text run "
                        f"trained on a pronouncing dictionary (configs/cmudict_g2p.yaml)")
    (src_tok, tgt_tok), model = TranslationTask(config).load_model(run_dir)
    opts = search_options(config.decode, beam_size=BEAM, attention=False, lm_weight=0.0)

    @torch.no_grad()
    def g2p(words: list[str]) -> list[list[str]]:
        sources = [src_tok.encode(spelled(w)) for w in words]
        hyps = decode_all(model, sources, opts, batch_size=config.decode.batch_size)
        return [tgt_tok.decode(h[0].tokens).split() if h else [] for h in hyps]

    return g2p


register_g2p_loader(load_g2p)
