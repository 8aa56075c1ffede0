"""The request queue: concurrent requests merged into batches, decoded on one worker thread.

The batcher takes the first job, then keeps collecting until `max_batch_size` items (sentences, recordings, texts
to say) are waiting or `max_wait_ms` have passed since that first one, and decodes jobs with the same search
options together (search results do not depend on the batch: tests/test_search.py). Decoding runs on one worker
thread, so the event loop keeps accepting requests meanwhile."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..config import ServeSettings

Decode = Callable[[list, tuple], list]     # (items, search options) → one result per item, in order


@dataclass
class Job:
    items: list                                         # texts, or the feature frames of one recording
    options: tuple                                      # search options: only jobs with equal ones share a batch
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)


class Batcher:
    """One queue, one decoding thread. `submit` returns the job's results (from `decode`) and the size of the batch
    it rode in."""

    def __init__(self, decode: Decode, settings: ServeSettings):
        self.decode, self.settings = decode, settings
        self.queue: Optional[asyncio.Queue[Job]] = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seq2seq-decode")
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, items: list, options: tuple) -> tuple[list, int]:
        job = Job(items, options, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    async def _collect(self) -> list[Job]:
        first = await self.queue.get()
        jobs, count = [first], len(first.items)
        if not self.settings.batching:
            return jobs
        deadline = first.queued + self.settings.max_wait_ms / 1000
        while count < self.settings.max_batch_size:
            try:
                job = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            jobs.append(job)
            count += len(job.items)
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._collect()
            groups: dict[tuple, list[Job]] = {}
            for job in jobs:
                groups.setdefault(job.options, []).append(job)
            for options, members in groups.items():
                items = [item for job in members for item in job.items]
                try:
                    results = await loop.run_in_executor(self.executor, self._decode, items, options)
                except Exception as exc:          # a bug: fail these requests, keep serving
                    for job in members:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                start = 0
                for job in members:
                    if not job.future.done():     # (a request that timed out has stopped waiting)
                        job.future.set_result((results[start: start + len(job.items)], len(items)))
                    start += len(job.items)

    def _decode(self, items: list, options: tuple) -> list:
        return self.decode(items, options) if items else []
