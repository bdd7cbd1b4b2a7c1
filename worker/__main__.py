from __future__ import annotations

from worker.cli import app

app(prog_name="orderflow")
