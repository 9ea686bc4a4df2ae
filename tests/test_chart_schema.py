"""Every chart of every page, as each kind of reader sees it, is a valid Vega-Lite spec.

Charts are serialized without Altair's schema check at render time (widgets.unchecked: it was half of what a
chart cost the server), so the check happens here, on what Streamlit actually sends to the browser."""

from __future__ import annotations

import json

import pytest
from altair.vegalite.v6.schema.core import Root
from jsonschema.exceptions import ValidationError

from dashboard.pages_table import PAGES
from tests.test_disclosure import AGENCY_USER, demo_as

READERS = {"admin@state.example": "state_admin", "": "public", AGENCY_USER: "agency_submitter"}
VIEWS = [(principal, page.key) for principal, role in READERS.items() for page in PAGES
         if role in page.roles and (role == "state_admin" or page.key in ("overview", "agency", "regions"))]


def _specs(at) -> list[dict]:
    specs = [json.loads(element.proto.spec) for element in at.get("vega_lite_chart")]
    for spec in specs:
        spec.pop("datasets", None)  # sent beside the spec as Arrow; the spec names them
    return specs


@pytest.mark.parametrize(("principal", "page"), VIEWS)
def test_every_chart_on_the_page_is_a_valid_vega_lite_spec(demo_env, principal, page):
    for spec in _specs(demo_as(principal, page)):
        Root.validate(spec)


def test_the_check_refuses_a_spec_the_browser_could_not_draw(demo_env):
    spec = _specs(demo_as("admin@state.example", "overview"))[0]
    spec["mark" if "mark" in spec else "layer"] = {"type": "lin"}
    with pytest.raises(ValidationError):
        Root.validate(spec)
