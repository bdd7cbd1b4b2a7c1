"""Composing the reply sender (webhooks.outbound.replies) for this deployment: the Graph API
settings, the button titles of the customer's language (ai/lexicon/<lang>/buttons.toml), the
keyring that opens tokens and handles. `orderflow deliver` and `orderflow worker --deliver` run it
beside the webhook deliverer."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from ai.lexicon import LANGUAGES, value
from webhooks.outbound.graph import GraphConfig
from webhooks.outbound.replies import ReplyConfig, ReplySender, ReplyStats
from worker.core.encryption import Keyring
from worker.core.repository import Repository
from worker.core.settings import Settings

FALLBACK_LANGUAGE = "en"  # button titles of a reply whose language we do not speak


def button_titles(language: str | None) -> tuple[str, str]:
    """(confirm, change) reply button titles in the reply's language."""
    lang = (language or "").split("-")[0].lower()
    lang = lang if lang in LANGUAGES else FALLBACK_LANGUAGE
    return str(value(lang, "buttons", "confirm")), str(value(lang, "buttons", "change"))


def reply_config(settings: Settings, **overrides: Any) -> ReplyConfig:
    graph = GraphConfig(graph_url=settings.whatsapp_graph_url, api_version=settings.whatsapp_api_version)
    return dataclasses.replace(ReplyConfig(graph=graph, allow_private=settings.allow_private_webhook_targets),
                               **overrides)


def build_sender(repo: Repository, settings: Settings, *, keyring: Keyring | None = None,
                 config: ReplyConfig | None = None) -> ReplySender:
    return ReplySender(repo=repo, keyring=keyring or Keyring.from_settings(settings), button_titles=button_titles,
                       config=config or reply_config(settings))


async def run_replies(repo: Repository, settings: Settings, stop: asyncio.Event, *, keyring: Keyring | None = None,
                      config: ReplyConfig | None = None, until_idle: bool = False) -> ReplyStats:
    """Send replies until `stop` is set (or until nothing is due, with until_idle)."""
    return await build_sender(repo, settings, keyring=keyring, config=config).run(stop, until_idle=until_idle)


__all__ = ["build_sender", "button_titles", "reply_config", "run_replies"]
