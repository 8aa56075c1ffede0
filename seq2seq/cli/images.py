"""The images command: read (images in, one line of text per file)."""

from __future__ import annotations

import argparse

from .decoding import search_flags, set_threads
from .output import input_files, read_each, result_line, write_lines


def cmd_read(args: argparse.Namespace) -> int:
    from ..inference.reader import Reader

    files = input_files(args.images, args.input, "image files")
    search = search_flags(args)
    set_threads(args)
    reader = Reader.load(args.run_dir, which=args.checkpoint, device=args.device)
    columns, failed = read_each(files, reader.features)
    readable = sorted(columns)
    done = dict(zip(readable, reader.read_features([columns[n] for n in readable], [files[n] for n in readable],
                                                   batch_size=args.batch_size, **search)))
    write_lines(args.output, [result_line(files[n], done.get(n), args.jsonl) for n in range(len(files))])
    return 1 if failed else 0
