"""The address bar is the visitor's to write: every query parameter of every page, given markdown, HTML,
look-alike digits or over-long values, is parsed strictly, never rendered as markdown or HTML, never
echoed, and never raises."""

from __future__ import annotations

import re
import shutil

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from dashboard import pages_table
from tests.conftest import audit_events
from tests.test_app import APP

MARKER = "127.0.0.1:9"
PHISH = f"**Your session expired.** [Sign in](http://{MARKER}/login) ![](http://{MARKER}/b.png)"
HOSTILE = [
    PHISH,
    f"<img src=http://{MARKER}/x.png onerror=alert(1)>",
    f"R3\n# Session expired\n[Sign in](http://{MARKER}/login)",
    f"http://{MARKER}/bare-link",
    f":red[Your session expired] :material/warning: www.{MARKER}.example",
    "²", "１２", "٣", "x" * 5000,
]
GLOBAL = ("from", "to", "region", "type")  # the sidebar's filters: every page has them
PAGES = tuple(p.key for p in pages_table.PAGES)  # every page, as the navigation lists them
TEXT_ELEMENTS = ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                 "text", "code", "toast")
SUBMITTER = "submitter@fairstead.example"

_md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.fixture(scope="module")
def demo(demo_warehouse, tmp_path_factory):
    """One private copy of the demo warehouse for the module, in demo mode (no sign-in provider)."""
    work = tmp_path_factory.mktemp("address-bar")
    shutil.copyfile(demo_warehouse, work / "warehouse.duckdb")
    (work / "published").mkdir()
    shutil.copyfile(demo_warehouse.parent / "published" / "warehouse.duckdb", work / "published" / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEER_DB", str(work / "warehouse.duckdb"))
        mp.setenv("PEER_SNAPSHOT", str(work / "published" / "warehouse.duckdb"))
        mp.delenv("PEER_AS_OF", raising=False)
        yield work / "warehouse.duckdb"


def visit(page: str, params: dict[str, str], principal: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if principal is not None:
        at.session_state["demo_principal"] = principal
    at.query_params.update(params)
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    return at


def formatted(source: str) -> list[str]:
    """What markdown `source` would render as a link, image, emphasis, heading or HTML (GitHub-style bare
    links included): one string per such element, with its target and text."""
    found = []
    for block in _md.parse(source):
        if block.type.startswith("heading") or block.type == "html_block":
            found.append(block.type + " " + (block.content or ""))
        depth = 0
        for token in block.children or ():
            if token.type in ("link_open", "em_open", "strong_open", "s_open"):
                found.append(f"{token.type} {token.attrs}")
                depth += 1
            elif token.type in ("link_close", "em_close", "strong_close", "s_close"):
                depth -= 1
            elif token.type in ("image", "html_inline"):
                found.append(f"{token.type} {token.attrs} {token.content}")
            elif token.type == "text" and depth:
                found[-1] += " " + token.content
    found += [f"bare link {m.group()}" for m in re.finditer(r"(https?://|www\.)\S*", source)]  # GitHub autolinks
    return found


def assert_safe(at: AppTest, *values: str) -> None:
    """No exception, no formatted element built from the address, and none of its values shown at all."""
    assert not at.exception, [e.value for e in at.exception]
    for kind in TEXT_ELEMENTS:
        for element in at.get(kind):
            source = str(getattr(element, "value", "") or getattr(element, "body", "") or "")
            for piece in formatted(source):
                assert MARKER not in piece and "session expired" not in piece.lower(), (kind, source)
            assert MARKER not in source, (kind, source)
            for value in values:
                if len(value) > 3:  # a short value (a look-alike digit) may occur in text of its own
                    assert value not in source, (kind, source)
    for label in [b.label for b in at.button] + [str(x.label) for x in at.get("page_link")]:
        assert MARKER not in label


def test_the_checker_sees_what_the_reported_attack_would_render():
    assert len([f for f in formatted(PHISH) if MARKER in f or "expired" in f]) >= 3
    assert formatted(f"look at http://{MARKER}/x") and formatted("# heading") and formatted("<b>x</b>")
    from dashboard.widgets import plain

    assert not formatted(plain(PHISH)) and not formatted(plain(f"a\n# b\n===\nhttp://{MARKER}/x www.{MARKER}"))


@pytest.mark.parametrize("page", PAGES)
def test_every_global_filter_of_every_page_resists_markdown(demo, page):
    at = visit(page, {param: PHISH for param in GLOBAL})
    assert_safe(at, PHISH)
    notice = " ".join(w.value for w in at.sidebar.warning)
    assert all(f"'{param}'" in notice for param in GLOBAL), notice  # ignored, and said so in fixed words
    assert not {k: v for k, v in at.query_params.items() if k in GLOBAL}  # and dropped from the address


@pytest.mark.parametrize("value", HOSTILE[1:])
@pytest.mark.parametrize("param", GLOBAL)
def test_each_global_filter_parses_strictly(demo, param, value):
    at = visit("overview", {param: value})
    assert_safe(at, value)
    assert at.title[0].value == "Peer workforce integration: state overview"
    assert any(f"'{param}'" in w.value for w in at.sidebar.warning)


@pytest.mark.parametrize("params", [{"from": "２０２５-Q1", "to": "2026-Q3"}, {"from": "2025-Q5"},
                                    {"from": "2025-Q1 ", "to": "2025-Q4"}, {"from": "2026-Q1", "to": "2025-Q1"},
                                    {"from": "1999-Q1"}, {"to": "2025-q4"}])
def test_quarters_must_be_known_and_exact(demo, params):
    at = visit("overview", params)
    assert_safe(at, *(v for v in params.values() if not re.fullmatch(r"[0-9]{4}-Q[1-4]", v)))
    slider = at.select_slider(key="filter_quarters")
    assert slider.value == (slider.options[0], slider.options[-1])  # every quarter: the range was ignored


def test_valid_filters_still_apply(demo):
    at = visit("regions", {"region": "R3", "type": "RCO", "from": "2025-Q1", "to": "2025-Q4"})
    assert_safe(at)
    assert not at.sidebar.warning
    assert at.sidebar.selectbox(key="filter_region").value == "R3"
    assert at.sidebar.selectbox(key="filter_type").value == "RCO"


@pytest.mark.parametrize("value", HOSTILE + ["AG00001234567", "ag0101", "AG0101\n", "AG٠١٠١"])
def test_agency_parameter(demo, value):
    at = visit("agency", {"agency": value})
    assert_safe(at, value)
    assert any("names no agency" in e.value for e in at.error)
    assert at.selectbox(key="agency-picker-None").value is None


@pytest.mark.parametrize("value", [PHISH, "AG0003", "AG٠٠٠٣"])
def test_agency_parameter_refused_to_an_agency_user_without_echo(demo, value):
    at = visit("agency", {"agency": value}, principal=SUBMITTER)
    assert_safe(at, value)
    assert any("only your own agencies" in e.value for e in at.error)
    targets = {t for _, r, t, _ in audit_events(demo, "access_denied") if r == "agency_submitter"}
    assert (f"agency {value}" if value == "AG0003" else "agency (a malformed id)") in targets


@pytest.mark.parametrize("value", HOSTILE + ["1" * 13, "99999999999999999999999", "-1", "+1", " 1", "1.0", "0x1",
                                             "１", "1²", "\u0661"])
def test_submission_parameter(demo, value):
    at = visit("submissions", {"submission": value})
    assert_safe(at, value)
    assert any("does not name a submission" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.main.subheader  # no history was looked up


@pytest.mark.parametrize("principal", [None, SUBMITTER])
def test_a_well_formed_submission_number_still_opens_or_is_refused(demo, principal):
    at = visit("submissions", {"submission": "999999999999"}, principal=principal)
    assert_safe(at)
    if principal:  # an agency user: the same refusal whether or not it exists
        assert any("not one of your agencies" in e.value for e in at.error)
    else:
        assert any("There is no submission #999999999999" in i.value for i in at.info)


@pytest.mark.parametrize("page", ["agency", "submissions"])
def test_page_parameters_with_hostile_filters_together(demo, page):
    own = {"agency": "agency", "submissions": "submission"}[page]
    at = visit(page, {**{param: PHISH for param in GLOBAL}, own: PHISH})
    assert_safe(at, PHISH)
