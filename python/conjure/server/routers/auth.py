"""Users: sign up and log in (``us_…`` tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from conjure.errors import ConflictError, UnauthorizedError
from conjure.server.deps import anonymous, state_of
from conjure.server.errors import json_response
from conjure.server.schemas import LoginRequest, LoginResult, SignupRequest, SignupResult
from conjure.server.views import errors, router

r = router("Auth")
Anon = Annotated[None, Depends(anonymous)]


@r.post(
    "/v1/auth/signup",
    status_code=201,
    summary="Sign up",
    description="Creates a user (password kept only as a scrypt hash) and returns a user token. "
    "An email already taken is 409 `email_taken`.",
    responses={201: {"model": SignupResult}, **errors(409)},
)
def signup(body: SignupRequest, request: Request, _: Anon) -> Response:
    st = state_of(request)
    try:
        user = st.call("create_user", st.store.create_user, body.email, body.password)
    except ConflictError:
        raise ConflictError("this email is already registered", code="email_taken") from None
    token = st.tokens.issue(user["id"])
    return json_response({"user": user, **token}, 201)


@r.post(
    "/v1/auth/login",
    summary="Log in",
    description="Returns a user token for a correct email and password; a wrong password and an "
    "unknown email get the same 401 `invalid_credentials`.",
    responses={200: {"model": LoginResult}, **errors()},
)
def login(body: LoginRequest, request: Request, _: Anon) -> Response:
    st = state_of(request)
    try:
        user = st.call("authenticate_user", st.store.authenticate_user, body.email, body.password)
    except UnauthorizedError:
        raise UnauthorizedError("wrong email or password", code="invalid_credentials") from None
    return json_response(st.tokens.issue(user["id"]))
