"""The event loop's authentication fast path (adapters.auth.Authenticator.authenticate_cached): it
answers only what needs no I/O, and never answers differently from authenticate()."""
from __future__ import annotations

import pytest

from adapters.auth import Unauthenticated
from tests.integration.helpers import stack  # noqa: F401 - fixture


def test_a_key_not_seen_lately_needs_the_database_then_is_answered_from_memory(stack):
    auth = stack.container().auth
    key = auth.api_keys.create("t1", "caseworker")
    header = f"Bearer {key}"
    assert auth.authenticate_cached(header) is None  # would need a query: left to a worker thread
    found = auth.authenticate(header)
    assert auth.authenticate_cached(header) == found
    assert (found.tenant, found.roles) == ("t1", frozenset({"caseworker"}))


def test_the_fast_path_refuses_what_authenticate_refuses(stack):
    auth = stack.container().auth
    key = auth.api_keys.create("t1", "caseworker")
    auth.authenticate(f"Bearer {key}")
    for header in (None, "Basic abc", "Bearer lk_broken", f"Bearer {key[:-2]}xx"):
        with pytest.raises(Unauthenticated):
            auth.authenticate(header)
        with pytest.raises(Unauthenticated):
            auth.authenticate_cached(header)


def test_a_jwt_always_goes_to_the_full_check(stack):
    auth = stack.container().auth
    assert auth.authenticate_cached("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig") is None
