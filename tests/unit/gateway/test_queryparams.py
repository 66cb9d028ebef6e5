from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.datastructures import QueryParams

from gateway import queryparams
from gateway.errors import ValidationFailed


@pytest.mark.parametrize(
    "read",
    [
        queryparams.offset,
        lambda p: queryparams.integer(p, "offset", 0, 0, 10),
        lambda p: queryparams.boolean(p, "offset", default=False),
        lambda p: queryparams.required(p, "offset"),
        lambda p: queryparams.timestamp(p, "offset"),
    ],
)
def test_a_parameter_given_twice_is_refused(read: Callable[[QueryParams], object]) -> None:
    """Found by schemathesis: `offset=A&offset=` was read as its last, empty value (no offset) and answered 200."""
    with pytest.raises(ValidationFailed) as raised:
        read(QueryParams("offset=1&offset=2"))
    assert raised.value.errors == [{"field": "offset", "message": "is given 2 times; give it once", "type": "query"}]


@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "1\u00b2"])
def test_offsets_and_timestamps_take_ascii_digits_only(raw: str) -> None:
    """`str.isdigit` takes "²" (which `int` refuses: a 500) and "٣" (which `int` reads as 3)."""
    with pytest.raises(ValidationFailed):
        queryparams.offset(QueryParams({"offset": raw}))
    with pytest.raises(ValidationFailed):
        queryparams.timestamp(QueryParams({"timestamp": raw}))


def test_an_offset_is_within_kafkas_int64() -> None:
    assert queryparams.offset(QueryParams({"offset": str(2**63 - 1)})) == 2**63 - 1
    with pytest.raises(ValidationFailed):
        queryparams.offset(QueryParams({"offset": str(2**63)}))


def test_one_value_is_read_as_before() -> None:
    assert queryparams.offset(QueryParams("offset=17")) == 17
    assert queryparams.offset(QueryParams("offset=earliest")) == "earliest"
    assert queryparams.offset(QueryParams("")) is None
    assert queryparams.timestamp(QueryParams("timestamp=0")) == 0
    assert queryparams.single(QueryParams("a=x"), "a") == "x"
    assert queryparams.single(QueryParams(""), "a") is None
