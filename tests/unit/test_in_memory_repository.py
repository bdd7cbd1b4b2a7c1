"""The shared in-memory repository: canned answers per named query, a record of what ran, no SQL."""

from __future__ import annotations

import pytest

from worker.core.repository import NamedQueries
from worker.core.testing import InMemoryRepository


async def test_it_answers_and_records_in_order() -> None:
    repo = InMemoryRepository({"month_spend": {"spent": 5}, "recent_orders": [{"sku": "A"}, {"sku": "B"}]})
    assert await repo.fetch_one("month_spend", distributor_id="d") == {"spent": 5}
    assert await repo.fetch_all("recent_orders", distributor_id="d", limit=3) == [{"sku": "A"}, {"sku": "B"}]
    assert await repo.fetch_all("month_spend", distributor_id="e") == [{"spent": 5}]
    assert repo.ran == [("month_spend", {"distributor_id": "d"}), ("recent_orders", {"distributor_id": "d", "limit": 3}),
                        ("month_spend", {"distributor_id": "e"})]


async def test_a_query_without_an_answer_returns_no_row() -> None:
    repo = InMemoryRepository()
    assert await repo.fetch_one("load_message", message_id="m", worker_id="w") is None
    assert await repo.fetch_all("recent_orders", distributor_id="d") == []


async def test_an_answer_may_depend_on_the_arguments() -> None:
    repo = InMemoryRepository({"distributor_by_slug": lambda p: {"id": "1"} if p["slug"] == "valle" else None})
    assert await repo.fetch_one("distributor_by_slug", slug="valle") == {"id": "1"}
    assert await repo.fetch_one("distributor_by_slug", slug="other") is None


async def test_an_unknown_query_name_fails_as_against_postgres() -> None:
    with pytest.raises(KeyError, match="no_such_query"):
        await InMemoryRepository().execute("no_such_query")
    assert await InMemoryRepository(query_packages=("worker.demo",)).fetch_all("demo_orders") == []


def test_it_satisfies_the_protocol() -> None:
    repo: NamedQueries = InMemoryRepository()  # mypy checks the assignment; the seam's four calls exist
    assert all(callable(getattr(repo, name)) for name in ("execute", "fetch_one", "fetch_all", "listen"))
