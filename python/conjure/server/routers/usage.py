"""Usage meters of the caller's app."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from conjure.errors import BadInputError
from conjure.server.deps import Secret, state_of
from conjure.server.errors import json_response
from conjure.server.schemas import Usage
from conjure.server.views import errors, router

r = router("Usage")
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a UTC day, YYYY-MM-DD (default today)")]


@r.get(
    "/v1/usage",
    summary="Get today's usage",
    description="Per meter: `used`, `reserved` and the daily `limit` for the app, for one UTC day.",
    responses={200: {"model": Usage}, **errors(403)},
)
def usage(request: Request, key: Secret, day: Day = None) -> Response:
    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise BadInputError(f"day: {day!r} is not a calendar day", code="bad_input") from None
    st = state_of(request)
    return json_response(st.call(st.store.usage, str(key.app_id), day))
