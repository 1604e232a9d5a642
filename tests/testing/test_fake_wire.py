"""Pure checks of the pool wire rules (no server): validation and the create response shape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastly_pools.testing._errors import ApiError
from fastly_pools.testing._pool import FIELDS, clean, created_view, new_pool, writable_form


@given(st.integers(0, 100))
def test_any_quorum_in_range_is_stored_as_text(quorum: int) -> None:
    assert clean({"name": "p", "quorum": str(quorum)}, creating=True)["quorum"] == str(quorum)


@given(st.integers().filter(lambda n: not 0 <= n <= 100) | st.text().filter(str.isalpha))
def test_quorum_outside_0_to_100_is_refused(quorum: object) -> None:
    with pytest.raises(ApiError) as caught:
        clean({"name": "p", "quorum": str(quorum)}, creating=True)
    assert caught.value.status == 400


@given(st.dictionaries(st.text(), st.text()))
def test_unknown_keys_never_reach_the_pool(form: dict[str, str]) -> None:
    assert set(writable_form(form.items())) <= set(FIELDS) - {"id", "service_id", "version"}


def test_last_value_of_a_repeated_key_wins_in_first_sent_position() -> None:
    form = writable_form([("quorum", "1"), ("name", "p"), ("quorum", "2"), ("Name", "x")])
    assert list(form.items()) == [("quorum", "2"), ("name", "p")]


def test_empty_text_clears_a_nullable_field_but_not_the_comment() -> None:
    values = clean({"shield": "", "comment": ""}, creating=False)
    assert values == {"shield": None, "comment": ""}


def test_create_view_puts_submitted_keys_first() -> None:
    form = {"type": "hash", "name": "p", "quorum": "050"}
    pool = new_pool("svc", 3, clean(form, creating=True))
    view = created_view(pool, form)
    assert list(view)[:3] == ["type", "name", "quorum"]
    assert view["quorum"] == "050"
    assert pool["quorum"] == "50"
    assert set(view) == set(FIELDS)
    assert created_view(pool, {"name": "p"})["quorum"] == 75
