"""The composition root: build the analyzer, the PII detector, the pipeline and the worker
from settings, and run them until a signal says stop."""

from __future__ import annotations

import asyncio
import signal

from ai.analyzer import Analyzer
from ai.offline_analyzer import OfflineAnalyzer
from ai.pii import get_detector
from worker.context import ContextCache
from worker.loop import Worker, WorkerStats, new_worker_id
from worker.pipeline import Pipeline
from worker.repository import Repository
from worker.settings import Settings


def build_analyzer(settings: Settings) -> Analyzer:
    """OpenAI when a key is set (or an OpenAI-compatible OPENAI_BASE_URL), else the offline analyzer."""
    if settings.openai_api_key:
        from ai.openai_analyzer import OpenAIAnalyzer, OpenAIConfig

        return OpenAIAnalyzer(OpenAIConfig.from_settings(settings))
    return OfflineAnalyzer()


def build_worker(repo: Repository, settings: Settings, *, analyzer: Analyzer | None = None,
                 concurrency: int | None = None, retry_base: float = 2.0, worker_id: str | None = None,
                 lease_seconds: int = 60, heartbeat_interval: float = 15.0) -> Worker:
    worker_id = worker_id or new_worker_id()
    pipeline = Pipeline(repo=repo, contexts=ContextCache(repo), analyzer=analyzer or build_analyzer(settings),
                        pii_detector=get_detector(), worker_id=worker_id, retry_base=retry_base)
    n = concurrency or settings.worker_concurrency
    return Worker(repo=repo, pipeline=pipeline, worker_id=worker_id, concurrency=n, batch_size=min(n, 64),
                  lease_seconds=lease_seconds, heartbeat_interval=heartbeat_interval)


async def run_worker(url: str, settings: Settings, *, until_idle: bool = False, concurrency: int | None = None) -> WorkerStats:
    repo = Repository(url, max_size=8)
    await repo.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        worker = build_worker(repo, settings, concurrency=concurrency, retry_base=settings.retry_base,
                              lease_seconds=settings.lease_seconds,
                              heartbeat_interval=max(settings.lease_seconds / 4, 0.5))
        return await worker.run(stop, until_idle=until_idle)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await repo.close()


__all__ = ["build_analyzer", "build_worker", "run_worker"]
