"""The images command: read (images in, one line of text per file)."""

from __future__ import annotations

import argparse

from .decoding import search_flags, set_threads
from .output import input_files, write_per_file


def cmd_read(args: argparse.Namespace) -> int:
    from ..inference.reader import Reader

    files = input_files(args.images, args.input, "image files")
    search = search_flags(args)
    set_threads(args)
    reader = Reader.load(args.run_dir, which=args.checkpoint, device=args.device)
    return write_per_file(args, files, reader.features,
                          lambda columns, names: reader.read_features(columns, names, batch_size=args.batch_size,
                                                                      **search))
