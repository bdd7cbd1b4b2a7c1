"""Test helpers shared by unit and integration tests (a local webhook receiver, pipeline helpers)."""

from __future__ import annotations
