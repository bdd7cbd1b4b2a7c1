"""The composition root: build the analyzer, the PII detector, the pipeline and the worker
from settings, and run them until a signal says stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime

from ai.analyzer import AnalysisRequest, AnalysisResult, Analyzer
from ai.offline.analyzer import OfflineAnalyzer
from ai.pii.detector import get_detector
from webhooks.outbound.graph import GraphConfig
from worker.context import ContextCache
from worker.core.claim_loop import new_worker_id
from worker.core.encryption import Keyring
from worker.core.repository import DatabaseUnavailable, Repository
from worker.core.settings import Settings
from worker.loop import Worker, WorkerStats
from worker.media import MediaReader
from worker.pipeline import Pipeline


class DelayedAnalyzer:
    """Benchmarks only (ORDERFLOW_SIMULATED_AI_LATENCY_MS): an analyzer that answers after a
    fixed delay, to show how many messages a worker keeps in flight while AI calls are slow."""

    def __init__(self, inner: Analyzer, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.provider, self.model = inner.provider, inner.model
        self.prompt_version, self.paid = inner.prompt_version, inner.paid
        self.reads_orders = inner.reads_orders

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        await asyncio.sleep(self.delay_s)
        return await self.inner.analyze(request)


log = logging.getLogger("orderflow.worker")


def build_analyzer(settings: Settings) -> Analyzer:
    """OpenAI when a key is set (or an OpenAI-compatible OPENAI_BASE_URL), else the offline analyzer."""
    analyzer: Analyzer
    if settings.openai_api_key:
        from ai.openai.analyzer import OpenAIAnalyzer, OpenAIConfig

        analyzer = OpenAIAnalyzer(OpenAIConfig.from_settings(settings))
    else:
        analyzer = OfflineAnalyzer()
    if settings.simulated_ai_latency_ms > 0:
        analyzer = DelayedAnalyzer(analyzer, settings.simulated_ai_latency_ms / 1000)
    return analyzer


def build_media_reader(repo: Repository, settings: Settings) -> MediaReader:
    """Media fetched from the Graph API and kept encrypted; transcribed only with an OpenAI key."""
    transcriber = None
    if settings.openai_api_key:
        from ai.openai.transcribe import Transcriber

        transcriber = Transcriber(api_key=settings.openai_api_key, base_url=settings.openai_base_url,
                                  model=settings.openai_transcribe_model)
    return MediaReader(repo=repo, keyring=Keyring.from_settings(settings), transcriber=transcriber,
                       graph=GraphConfig(graph_url=settings.whatsapp_graph_url, api_version=settings.whatsapp_api_version))


def build_worker(repo: Repository, settings: Settings, *, analyzer: Analyzer | None = None,
                 concurrency: int | None = None, retry_base: float = 2.0, worker_id: str | None = None,
                 lease_seconds: int = 60, heartbeat_interval: float = 15.0,
                 clock: Callable[[], datetime] | None = None) -> Worker:
    worker_id = worker_id or new_worker_id()
    pipeline = Pipeline(repo=repo, contexts=ContextCache(repo), analyzer=analyzer or build_analyzer(settings),
                        pii_detector=get_detector(), worker_id=worker_id, retry_base=retry_base,
                        media=build_media_reader(repo, settings),
                        **({"clock": clock} if clock is not None else {}))
    n = concurrency or settings.worker_concurrency
    return Worker(repo=repo, pipeline=pipeline, worker_id=worker_id, concurrency=n, batch_size=min(n, 64),
                  lease_seconds=lease_seconds, heartbeat_interval=heartbeat_interval)


async def _periodically(stop: asyncio.Event, interval: float, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `job` now and every `interval` seconds until `stop`; a database outage skips a round."""
    while not stop.is_set():
        try:
            await job()
        except DatabaseUnavailable:
            log.warning(f"{what} skipped: database unavailable", extra={"action": f"{what.replace(' ', '_')}_skipped"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def _maintenance(repo: Repository, keyring: Keyring, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Roll-ups (ai_model_performance, ai_prompt_performance, distributor_usage: cheap to read) and
    the encryption of plaintext personal data that reached the database (worker/encrypt_pending.py)."""
    from worker.admin.encrypt_pending import ENCRYPT_INTERVAL, encrypt_pending
    from worker.rollups import ROLLUP_INTERVAL, default_since, refresh_rollups

    return [
        asyncio.create_task(_periodically(stop, ROLLUP_INTERVAL, lambda: refresh_rollups(repo, default_since()),
                                          "roll-up refresh")),
        asyncio.create_task(_periodically(stop, ENCRYPT_INTERVAL, lambda: encrypt_pending(repo, keyring),
                                          "encryption of pending plaintext")),
    ]


async def run_worker(url: str, settings: Settings, *, until_idle: bool = False, concurrency: int | None = None,
                     deliver: bool = False) -> WorkerStats:
    """Run the worker until SIGTERM/SIGINT (draining in-flight work); with `deliver`, the webhook
    delivery loop and the reply sender run in the same process and stop with it (with until_idle,
    once they have sent what is due)."""
    keyring = Keyring.from_settings(settings)  # before anything starts: no master key, no worker
    repo = Repository(url, max_size=14 if deliver else 8)
    await repo.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    delivery: asyncio.Task[object] | None = None
    replies: asyncio.Task[object] | None = None
    maintenance = _maintenance(repo, keyring, stop)
    try:
        if deliver:
            from webhooks.outbound.delivery import run_delivery
            from worker.replies import run_replies

            delivery = asyncio.create_task(run_delivery(repo, settings, stop))
            replies = asyncio.create_task(run_replies(repo, settings, stop, keyring=keyring))
        worker = build_worker(repo, settings, concurrency=concurrency, retry_base=settings.retry_base,
                              lease_seconds=settings.lease_seconds,
                              heartbeat_interval=max(settings.lease_seconds / 4, 0.5))
        stats = await worker.run(stop, until_idle=until_idle)
        interrupted = stop.is_set()  # a signal, not the worker running out of messages
        stop.set()
        if delivery is not None:
            await delivery
        if replies is not None:
            await replies
        if deliver and until_idle and not interrupted:  # what the last messages queued goes out before exiting
            from webhooks.outbound.delivery import run_delivery
            from worker.replies import run_replies

            await asyncio.gather(run_delivery(repo, settings, asyncio.Event(), until_idle=True),
                                 run_replies(repo, settings, asyncio.Event(), keyring=keyring, until_idle=True))
        return stats
    finally:
        stop.set()
        for task in maintenance:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for loop_task in (delivery, replies):
            if loop_task is not None and not loop_task.done():
                loop_task.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await repo.close()


__all__ = ["DelayedAnalyzer", "build_analyzer", "build_media_reader", "build_worker", "run_worker"]
