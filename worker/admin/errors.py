"""The errors of the operator's services (worker/admin): a request the operator can fix."""

from __future__ import annotations

from worker.core.repository import OrderflowError


class AdminError(OrderflowError):
    """The request cannot be done as given (bad input, unknown distributor, refused secret ...)."""


class NotFound(AdminError):
    """No such distributor, order, endpoint or integration."""


__all__ = ["AdminError", "NotFound"]
