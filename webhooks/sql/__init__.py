"""Named runtime queries of the webhooks room (queries.sql), loaded by worker.core.queries."""

from __future__ import annotations
