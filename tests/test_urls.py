"""Path building and base-URL checks: pure, no server."""

from __future__ import annotations

import pytest
from yarl import URL

from fastly_pools._urls import (
    check_base_url,
    check_name,
    check_service_id,
    check_version,
    pool_path,
    pools_path,
)


def test_pools_path_plain() -> None:
    assert pools_path("SU1Z0isxPaozGVKXdv0eY", 7) == "/service/SU1Z0isxPaozGVKXdv0eY/version/7/pool"


def test_pool_path_plain() -> None:
    assert pool_path("svc", 91, "test_pool") == "/service/svc/version/91/pool/test_pool"


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("my pool", "my%20pool"),
        ("100%", "100%25"),
        ("q?x=1#frag", "q%3Fx%3D1%23frag"),
        ("a+b&c", "a%2Bb%26c"),
        ("café", "caf%C3%A9"),
        ("..a", "..a"),  # only the whole segment "." or ".." is special
        ("~-_.", "~-_."),
    ],
)
def test_each_segment_is_percent_encoded_on_its_own(name: str, encoded: str) -> None:
    path = pool_path("svc", 1, name)
    assert path == f"/service/svc/version/1/pool/{encoded}"
    # Still one segment after the path is turned into a URL the way the client does it.
    url = URL("https://api.fastly.com" + path, encoded=True)
    assert url.raw_path.count("/") == 6
    assert url.raw_parts[-1] == encoded


def test_service_id_segment_is_encoded_too() -> None:
    assert pools_path("a/b c", 2) == "/service/a%2Fb%20c/version/2/pool"


@pytest.mark.parametrize("bad", ["", " ", "\t", ".", ".."])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"name") as info:
        pool_path("svc", 1, bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match=r"name"):
        check_name(bad)


@pytest.mark.parametrize("bad", ["", "   ", ".", ".."])
def test_bad_service_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"service_id") as info:
        check_service_id(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match=r"service_id"):
        pools_path(bad, 1)


@pytest.mark.parametrize("bad", ["a\nb", "a\x00b", "tab\x7f"])
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"control characters"):
        check_name(bad)


@pytest.mark.parametrize("bad", [None, 5, b"svc", ["svc"]])
def test_non_str_segments_are_type_errors(bad: object) -> None:
    with pytest.raises(TypeError, match=r"service_id must be a str"):
        check_service_id(bad)
    with pytest.raises(TypeError, match=r"name must be a str"):
        check_name(bad)


def test_check_name_reports_the_given_field() -> None:
    with pytest.raises(ValueError, match=r"^pool_name "):
        check_name("", "pool_name")


@pytest.mark.parametrize("good", [1, 7, 2**40])
def test_positive_versions_pass(good: int) -> None:
    assert check_version(good) == good


@pytest.mark.parametrize(
    ("bad", "error"),
    [(0, ValueError), (-1, ValueError), (True, TypeError), ("1", TypeError), (1.0, TypeError)],
)
def test_bad_versions_are_refused(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"version") as info:
        check_version(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.fastly.com", "https://api.fastly.com"),
        ("https://api.fastly.com/", "https://api.fastly.com"),
        ("https://proxy.example/fastly/", "https://proxy.example/fastly"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1/", "http://localhost:1"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://127.9.9.9", "http://127.9.9.9"),
    ],
)
def test_accepted_base_urls(given: str, expected: str) -> None:
    assert str(check_base_url(given)) == expected


def test_base_url_accepts_a_yarl_url() -> None:
    assert check_base_url(URL("https://api.fastly.com/")) == URL("https://api.fastly.com")


@pytest.mark.parametrize(
    "bad", ["http://api.fastly.com", "http://10.0.0.1", "http://example.com:80/"]
)
def test_plain_http_to_a_non_loopback_host_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"https unless its host is loopback"):
        check_base_url(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "api.fastly.com",
        "/relative",
        "ftp://api.fastly.com",
        "https://user:pw@api.fastly.com",
        "https://api.fastly.com/?x=1",
        "https://api.fastly.com/#top",
    ],
)
def test_malformed_base_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"base_url"):
        check_base_url(bad)


def test_credentials_in_a_refused_base_url_are_not_echoed() -> None:
    with pytest.raises(ValueError, match=r"credentials") as info:
        check_base_url("https://user:hunter2@api.fastly.com")
    assert "hunter2" not in str(info.value)
