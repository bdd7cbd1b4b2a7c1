"""Distributors, as the operator sees them: create one, list them, show one with its setup.

A distributor is the tenant: every other row belongs to one. `locale` is the language and the
country ("es" + "MX" → "es-MX"); the currency and time zone are checked here, so a typo is an
error now rather than wrong prices or wrong delivery dates later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.admin.errors import AdminError, NotFound
from worker.core.repository import Repository, Row

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
LANGUAGES = ("es", "en", "pt")  # the languages the analyzer and the replies speak


@dataclass(frozen=True, kw_only=True)
class NewDistributor:
    slug: str
    name: str
    country: str | None
    currency: str
    timezone: str
    language: str

    @property
    def locale(self) -> str:
        return f"{self.language}-{self.country}" if self.country else self.language


def check(new: NewDistributor) -> NewDistributor:
    """The distributor as given, or AdminError naming what is wrong."""
    if not SLUG.match(new.slug):
        raise AdminError(f"slug {new.slug!r}: lower-case letters, digits and '-', 2 to 63 characters")
    if not new.name.strip():
        raise AdminError("give the distributor a --name")
    if new.country is not None and not re.fullmatch(r"[A-Z]{2}", new.country):
        raise AdminError(f"country {new.country!r}: an ISO 3166 code such as MX, BR, US")
    if not re.fullmatch(r"[A-Z]{3}", new.currency):
        raise AdminError(f"currency {new.currency!r}: an ISO 4217 code such as MXN, BRL, USD")
    if new.language not in LANGUAGES:
        raise AdminError(f"language {new.language!r}: one of {', '.join(LANGUAGES)}")
    try:
        ZoneInfo(new.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"time zone {new.timezone!r}: an IANA zone such as America/Mexico_City") from None
    return new


def from_catalog_block(block: dict[str, Any]) -> NewDistributor:
    """The distributor block of a JSON catalog (`locale` like "es-MX")."""
    locale = str(block.get("locale") or "es-MX")
    language, _, country = locale.partition("-")
    return NewDistributor(slug=str(block.get("slug", "")), name=str(block.get("name") or block.get("slug") or ""),
                          country=block.get("country") or (country or None), currency=str(block.get("currency", "USD")),
                          timezone=str(block.get("timezone", "UTC")), language=language)


async def create(repo: Repository, new: NewDistributor) -> Row:
    """Create the distributor; AdminError when the slug is taken."""
    check(new)
    row = await repo.fetch_one("ops_create_distributor", slug=new.slug, name=new.name.strip(), country=new.country,
                               locale=new.locale, currency=new.currency, timezone=new.timezone)
    if row is None:
        raise AdminError(f"distributor {new.slug!r} exists already (`orderflow distributors show {new.slug}`)")
    return row


async def ensure(repo: Repository, new: NewDistributor) -> tuple[str, bool]:
    """The distributor's id, created when missing; (id, created)."""
    existing = await repo.fetch_one("distributor_by_slug", slug=new.slug)
    if existing is not None:
        return str(existing["id"]), False
    row = await create(repo, new)
    return str(row["id"]), True


async def listing(repo: Repository, slug: str | None = None) -> list[Row]:
    return await repo.fetch_all("ops_distributors", slug=slug)


async def show(repo: Repository, slug: str) -> Row:
    rows = await listing(repo, slug)
    if not rows:
        raise NotFound(f"no distributor {slug!r} (`orderflow distributors list`)")
    return rows[0]


async def resolve(repo: Repository, slug: str) -> str:
    """A distributor's id by slug; NotFound otherwise."""
    row = await repo.fetch_one("distributor_by_slug", slug=slug)
    if row is None:
        raise NotFound(f"no distributor {slug!r} (`orderflow distributors create {slug} ...` first)")
    return str(row["id"])



__all__ = ["LANGUAGES", "NewDistributor", "check", "create", "ensure", "from_catalog_block", "listing", "resolve",
           "show"]
