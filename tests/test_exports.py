"""The public namespace: a sorted `__all__` that is exactly what the package exports."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import fastly_pools

# Names the issue fixes; they must stay exported.
REQUIRED = {
    "Client", "Pool", "PoolType", "FastlyError", "APIStatusError", "BadRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "UnprocessableEntityError", "RateLimitError", "ServerError", "APIConnectionError",
    "APITimeoutError", "ResponseDecodeError", "__version__",
}  # fmt: skip
STATUS_CLASSES = {
    "BadRequestError": 400, "AuthenticationError": 401, "PermissionDeniedError": 403,
    "NotFoundError": 404, "ConflictError": 409, "UnprocessableEntityError": 422,
    "RateLimitError": 429, "ServerError": 500,
}  # fmt: skip


def public_names(module: ModuleType) -> set[str]:
    """Names bound in the module that are neither private nor submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    } - {"annotations"}


@pytest.mark.parametrize("module_name", ["fastly_pools", "fastly_pools.testing"])
def test_all_is_sorted_and_unique(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))


@pytest.mark.parametrize("module_name", ["fastly_pools", "fastly_pools.testing"])
def test_all_matches_the_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) - {"__version__"} == public_names(module)


@pytest.mark.parametrize("name", fastly_pools.__all__)
def test_every_exported_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from fastly_pools import {name}", namespace)
    assert namespace[name] is getattr(fastly_pools, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from fastly_pools import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(fastly_pools.__all__)


def test_required_names_are_exported() -> None:
    assert set(fastly_pools.__all__) >= REQUIRED


def test_version_is_a_string() -> None:
    assert isinstance(fastly_pools.__version__, str)
    assert fastly_pools.__version__.count(".") >= 1


@pytest.mark.parametrize(("name", "status"), sorted(STATUS_CLASSES.items()))
def test_status_errors_hang_under_one_root(name: str, status: int) -> None:
    cls = getattr(fastly_pools, name)
    assert issubclass(cls, fastly_pools.APIStatusError)
    assert issubclass(cls, fastly_pools.FastlyError)


def test_connection_errors_hang_under_the_root() -> None:
    assert issubclass(fastly_pools.APITimeoutError, fastly_pools.APIConnectionError)
    assert issubclass(fastly_pools.APIConnectionError, fastly_pools.FastlyError)
    assert issubclass(fastly_pools.ResponseDecodeError, fastly_pools.FastlyError)
    assert not issubclass(fastly_pools.APIConnectionError, fastly_pools.APIStatusError)


def test_public_classes_and_functions_have_docstrings() -> None:
    # Each exported class or function has a docstring (they are the API reference).
    for name in fastly_pools.__all__:
        value = getattr(fastly_pools, name)
        if isinstance(value, type) or callable(value):
            assert value.__doc__, name
