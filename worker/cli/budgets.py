"""`orderflow budgets set --distributor SLUG --monthly-usd 25 --mode soft|hard [--thresholds 50,80,100]`."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.admin import budgets
from worker.cli.errors import console, run
from worker.core.repository import Repository

budgets_app = typer.Typer(help="Monthly AI budgets.", no_args_is_help=True)


@budgets_app.command("set")
def set_(
    distributor: Annotated[str, typer.Option("--distributor", help="Slug")],
    monthly_usd: Annotated[float, typer.Option("--monthly-usd", help="Budget per calendar month, in USD")],
    mode: Annotated[str, typer.Option("--mode", help="soft: alerts only; hard: stop paid analysis at 100%")] = "soft",
    thresholds: Annotated[str | None, typer.Option("--thresholds", help="Alert at these percentages")] = None,
) -> None:
    """Set a distributor's monthly AI budget."""

    async def work(repo: Repository) -> budgets.Budget:
        return await budgets.set_budget(repo, distributor_slug=distributor, monthly_usd=monthly_usd, mode=mode,
                                        thresholds=budgets.parse_thresholds(thresholds))

    budget = run(work)
    console.print(f"{distributor}: {budget.monthly_micro_usd / budgets.MICRO_USD:g} USD a month, {budget.mode}, "
                  f"alerts at {', '.join(f'{t}%' for t in budget.thresholds)}")


__all__ = ["budgets_app"]
