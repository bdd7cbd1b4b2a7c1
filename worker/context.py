"""What the pipeline knows about a distributor, cached per worker process.

The catalog (and its matcher, which precomputes indexes) is rebuilt only when the catalog
changes; prices and budgets are re-read after a short time to live. A customer whose own learned
aliases disagree with the distributor's (this shop's "la roja" is another product) gets its own
catalog and matcher, cached per customer until the learned aliases change.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ai.catalog import Catalog, Product
from ai.cost import ModelPrice
from ai.matching.matcher import Matcher
from ai.pii.names import catalog_vocabulary
from worker.admin.corrections import alias_key, effective_aliases
from worker.conversation import Policy
from worker.core.repository import NamedQueries

CONTEXT_TTL = 30.0  # seconds before a distributor's settings and catalog version are re-checked
PRICES_TTL = 60.0  # seconds
CUSTOMER_CACHE_SIZE = 4096  # customers whose own-alias view (or its absence) is remembered


@dataclass(frozen=True, kw_only=True)
class DistributorContext:
    id: str
    slug: str
    timezone: str
    language: str  # the distributor's default language: "es", "pt" or "en"
    catalog: Catalog
    matcher: Matcher
    catalog_version: str
    budget_micro_usd: int | None
    budget_mode: str | None
    loaded_at: float
    ai_per_minute: int | None = None  # api_rate_limits scope 'ai'; None: AI calls are not rate limited
    # the distributor's name and brands: never a person after a greeting or an honorific ("Hola Valle")
    own_words: frozenset[str] = frozenset()
    order_policy: Policy = Policy()  # follow-up window and customer confirmation (conversations)


def _language_of(locale: str) -> str:
    prefix = locale.split("-", 1)[0].lower()
    return prefix if prefix in {"es", "pt", "en"} else "es"


class ContextCache:
    def __init__(self, repo: NamedQueries) -> None:
        self._repo = repo
        self._contexts: dict[str, DistributorContext] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._prices: tuple[ModelPrice, ...] = ()
        self._prices_ids: dict[tuple[str, str, date], str] = {}
        self._prices_loaded_at = 0.0
        # (distributor, customer) -> (catalog version, catalog, matcher)
        self._customers: OrderedDict[tuple[str, str], tuple[str, Catalog, Matcher]] = OrderedDict()

    async def get(self, distributor_id: str) -> DistributorContext:
        cached = self._contexts.get(distributor_id)
        if cached is not None and time.monotonic() - cached.loaded_at < CONTEXT_TTL:
            return cached
        lock = self._locks.setdefault(distributor_id, asyncio.Lock())
        async with lock:
            cached = self._contexts.get(distributor_id)
            if cached is not None and time.monotonic() - cached.loaded_at < CONTEXT_TTL:
                return cached
            fresh = await self._load(distributor_id, cached)
            self._contexts[distributor_id] = fresh
            return fresh

    async def _load(self, distributor_id: str, previous: DistributorContext | None) -> DistributorContext:
        row = await self._repo.fetch_one("load_distributor", distributor_id=distributor_id)
        if row is None:
            raise LookupError(f"unknown distributor {distributor_id}")
        version_row = await self._repo.fetch_one("catalog_version", distributor_id=distributor_id)
        learned_row = await self._repo.fetch_one("learned_aliases_version", distributor_id=distributor_id)
        version = f"{version_row['version'] if version_row else ''}|{learned_row['version'] if learned_row else ''}"
        ai_limit = await self._repo.fetch_one("ai_rate_limit", distributor_id=distributor_id)
        if previous is not None and previous.catalog_version == version:
            catalog, matcher, own_words = previous.catalog, previous.matcher, previous.own_words
        else:
            catalog = await self._load_catalog(distributor_id, row)
            matcher, own_words = Matcher(catalog), catalog_vocabulary(catalog)
        return DistributorContext(
            id=distributor_id, slug=row["slug"], timezone=row["timezone"], language=_language_of(row["locale"]),
            catalog=catalog, matcher=matcher, catalog_version=version,
            budget_micro_usd=row["monthly_budget_micro_usd"], budget_mode=row["budget_mode"],
            own_words=own_words, loaded_at=time.monotonic(),
            ai_per_minute=int(ai_limit["requests_per_minute"]) if ai_limit else None,
            order_policy=Policy(followup_window_s=int(row["order_followup_window_s"]),
                                confirmation=str(row["order_confirmation"]), cutoff=row["order_cutoff_local"],
                                timezone=row["timezone"]),
        )

    async def _load_catalog(self, distributor_id: str, distributor: dict[str, Any]) -> Catalog:
        rows = await self._repo.fetch_all("load_catalog", distributor_id=distributor_id)
        products = tuple(
            Product(sku=r["sku"], name=r["name"], aliases=tuple(r["aliases"] or ()), unit=r["unit"],
                    pack_size=r["pack_size"], price_cents=r["price_cents"], category=r["category"], id=r["id"])
            for r in rows
        )
        learned = await self._repo.fetch_all("load_learned_aliases", distributor_id=distributor_id)
        return Catalog(distributor=distributor_id, distributor_name=distributor["name"], products=products,
                       timezone=distributor["timezone"], locale=distributor["locale"], currency=distributor["currency"],
                       learned_aliases=effective_aliases(learned))

    async def for_customer(self, ctx: DistributorContext, customer_id: str | None) -> tuple[Catalog, Matcher]:
        """The catalog and matcher for one customer's messages: the distributor's, unless the
        customer's own learned aliases say otherwise (then theirs win over the distributor's)."""
        if customer_id is None:
            return ctx.catalog, ctx.matcher
        key = (ctx.id, str(customer_id))
        hit = self._customers.get(key)
        if hit is not None and hit[0] == ctx.catalog_version:
            self._customers.move_to_end(key)
            return hit[1], hit[2]
        rows = await self._repo.fetch_all("load_customer_learned_aliases", distributor_id=ctx.id,
                                          customer_id=str(customer_id))
        own = effective_aliases(rows)
        general = {alias_key(alias): sku for alias, sku in ctx.catalog.learned_aliases}
        if all(general.get(alias_key(alias)) == sku for alias, sku in own):
            catalog, matcher = ctx.catalog, ctx.matcher
        else:
            merged = [{"alias": alias, "sku": sku} for alias, sku in (*ctx.catalog.learned_aliases, *own)]
            catalog = replace(ctx.catalog, learned_aliases=effective_aliases(merged))
            matcher = Matcher(catalog)
        self._customers[key] = (ctx.catalog_version, catalog, matcher)
        while len(self._customers) > CUSTOMER_CACHE_SIZE:
            self._customers.popitem(last=False)
        return catalog, matcher

    async def prices(self) -> tuple[tuple[ModelPrice, ...], dict[tuple[str, str, date], str]]:
        if time.monotonic() - self._prices_loaded_at > PRICES_TTL:
            rows = await self._repo.fetch_all("load_prices")
            self._prices = tuple(
                ModelPrice(provider=r["provider"], model=r["model"], effective_from=r["effective_from"],
                           input_per_mtok_micro_usd=r["input_per_mtok_micro_usd"],
                           cached_input_per_mtok_micro_usd=r["cached_input_per_mtok_micro_usd"],
                           output_per_mtok_micro_usd=r["output_per_mtok_micro_usd"])
                for r in rows
            )
            self._prices_ids = {(r["provider"], r["model"], r["effective_from"]): r["id"] for r in rows}
            self._prices_loaded_at = time.monotonic()
        return self._prices, self._prices_ids


__all__ = ["ContextCache", "DistributorContext"]
