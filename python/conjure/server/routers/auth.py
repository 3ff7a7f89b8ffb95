"""Users: sign up and log in (``us_…`` tokens)."""

from __future__ import annotations

import hashlib

from fastapi import Request
from starlette.responses import Response

from conjure.errors import ConflictError, UnauthorizedError

from conjure.server.deps import Anon, client_address, count_failure, refuse_if_failing, state_of
from conjure.server.errors import json_response
from conjure.server.schemas import LoginRequest, LoginResult, SignupRequest, SignupResult
from conjure.server.views import errors, router

r = router("Auth")


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
        user = st.password_hashing.run(st.call, st.store.create_user, body.email, body.password)
    except ConflictError:
        raise ConflictError("this email is already registered", code="email_taken") from None
    token = st.tokens.issue(user["id"])
    return json_response({"user": user, **token}, 201)


@r.post(
    "/v1/auth/login",
    summary="Log in",
    description="Returns a user token for a correct email and password; a wrong password and an "
    "unknown email get the same 401 `invalid_credentials`. Wrong passwords are throttled per client address "
    "and per email (429 `too_many_failures` with `Retry-After`, the password not even checked).",
    responses={200: {"model": LoginResult}, **errors()},
)
def login(body: LoginRequest, request: Request, _: Anon) -> Response:
    st = state_of(request)
    email = hashlib.sha256(body.email.strip().lower().encode("utf-8")).hexdigest()
    failures = [f"ip:{client_address(request)}", f"email:{email}"]
    refuse_if_failing(request, st, failures)
    try:
        user = st.password_hashing.run(st.call, st.store.authenticate_user, body.email, body.password)
    except UnauthorizedError:
        count_failure(st, failures)
        raise UnauthorizedError("wrong email or password", code="invalid_credentials") from None
    return json_response(st.tokens.issue(user["id"]))
