from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from gateway.errors import ValidationFailed
from gateway.openapi import build_openapi
from gateway.parameters import read_parameters
from gateway.settings import Settings
from processors.lake.settings import LakeSettings


def test_the_document_declares_the_bounds_the_routes_enforce() -> None:
    settings = Settings(auth="off", consume_max_limit=50, consume_max_timeout_ms=2000, streams_page_size_max=7)
    bounds = read_parameters(settings)
    assert bounds.limit.read(QueryParams("limit=50")) == 50
    with pytest.raises(ValidationFailed):
        bounds.limit.read(QueryParams("limit=51"))
    with pytest.raises(ValidationFailed):
        bounds.timeout_ms.read(QueryParams("timeout=-1"))
    assert bounds.page_limit.read(QueryParams("")) == 7  # a default above the maximum gives way to it

    spec = build_openapi("test", settings)
    poll = {p["name"]: p for p in spec["paths"]["/api/v1/streams/{stream}/events"]["get"]["parameters"]}
    assert poll["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 50}
    assert poll["timeout"]["schema"]["maximum"] == 2000
    assert poll["maxBytes"]["schema"]["minimum"] == 1024
    assert poll["autoCommit"]["schema"] == {"type": "boolean", "default": False}
    assert poll["stream"]["schema"]["pattern"].startswith("^")
    assert poll["consumerGroup"]["schema"]["maxLength"] == 249
    listing = spec["paths"]["/api/v1/streams"]["get"]["parameters"]
    assert listing[0]["schema"]["maximum"] == 7


def test_defaults_are_the_settings_defaults() -> None:
    spec = build_openapi("test")
    poll = {p["name"]: p for p in spec["paths"]["/api/v1/streams/{stream}/events"]["get"]["parameters"]}
    assert poll["limit"]["schema"]["maximum"] == Settings.model_fields["consume_max_limit"].default


@pytest.mark.parametrize("raw", ["", " 5", "5 ", "+5", "5_0", "\u0665", "0x10", "5.0"])
def test_an_integer_parameter_takes_ascii_digits_only(raw: str) -> None:
    """Found by schemathesis: `limit=` was read as the default; `int` would also take the others."""
    with pytest.raises(ValidationFailed):
        read_parameters(Settings(auth="off")).limit.read(QueryParams({"limit": raw}))


def test_the_preview_limit_is_the_lake_settings_one() -> None:
    """Found by schemathesis: the document gave the preview's `limit` the poll's bound, above the lake's."""
    settings = Settings(auth="off", consume_max_limit=5000, lake=LakeSettings(preview_max_limit=50))
    assert read_parameters(settings).preview_limit.read(QueryParams("limit=50")) == 50
    with pytest.raises(ValidationFailed):
        read_parameters(settings).preview_limit.read(QueryParams("limit=51"))
    spec = build_openapi("test", settings)
    (limit,) = spec["paths"]["/v1/datasets/{slug}/preview"]["get"]["parameters"][1:2]
    assert limit["name"] == "limit"
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
