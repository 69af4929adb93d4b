from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest

from gpc_middleware.core.categories import CATEGORIES, OPTIONAL_CATEGORIES
from gpc_middleware.widget.assets import widget_assets, widget_script_tag
from gpc_middleware.widget.config import render_widget_config
from gpc_middleware.widget.escaping import json_for_script
from gpc_middleware.widget.i18n import DEFAULT_CATALOGS, TEXT_KEYS, build_catalogs
from gpc_middleware.widget.pages import render_do_not_sell_page, render_settings_page
from gpc_middleware.widget.settings_form import SettingsFormError, parse_settings_form
from gpc_middleware.widget.state import WidgetState
from gpc_middleware.widget.validation import safe_next_path

ENDPOINT = "/_consent"
EN = DEFAULT_CATALOGS["en"]
PAYLOAD = "<script>alert(1)</script>\"'</script><!--&amp;\u2028"

# ---------------------------------------------------------------- a small DOM for assertions

VOID = frozenset({"meta", "input", "br", "img", "link", "hr", "source", "wbr"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            el
            for el in self.iter()
            if el.tag == tag and all(el.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    @property
    def text(self) -> str:
        return "".join(self.text_parts) + "".join(child.text for child in self.children)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeBuilder(HTMLParser):
    """Builds an :class:`Element` tree and insists that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"duplicate attribute in <{tag}>: {names}"
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.text_parts.append(data)


def parse(page: bytes) -> Element:
    assert page.startswith(b"<!DOCTYPE html>")
    builder = TreeBuilder()
    builder.feed(page.decode("utf-8"))
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    return builder.root


def state(**kwargs: Any) -> WidgetState:
    return WidgetState(**kwargs)


def settings_page(**kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "state": state(),
        "texts": EN,
        "language": "en",
        "endpoint": ENDPOINT,
        "csrf_token": "token-123",
        "next_url": "/shop?item=1",
    }
    arguments.update(kwargs)
    return render_settings_page(**arguments)


def dns_page(**kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "state": state(),
        "texts": EN,
        "language": "en",
        "endpoint": ENDPOINT,
        "csrf_token": "token-123",
        "next_url": "/shop?item=1",
    }
    arguments.update(kwargs)
    return render_do_not_sell_page(**arguments)


def embedded_config(root: Element) -> dict[str, Any]:
    script = root.find("script", id="gpc-consent-config")
    assert script.attrs["type"] == "application/json"
    value: dict[str, Any] = json.loads(script.text)
    return value


# ---------------------------------------------------------------- page structure


def test_settings_page_form_works_without_javascript() -> None:
    root = parse(settings_page())
    form = root.find("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/_consent/settings"
    hidden = {el.attrs["name"]: el.attrs["value"] for el in form.find_all("input", type="hidden")}
    assert hidden == {"csrf_token": "token-123", "next": "/shop?item=1"}
    # Only real submit buttons, all inside the form.
    buttons = root.find_all("button")
    assert [b.attrs["value"] for b in buttons] == ["save", "reject_all", "accept_all"]
    for button in buttons:
        assert form in list(button.ancestors())
        assert button.attrs["type"] == "submit"
        assert button.attrs["name"] == "action"
    assert [b.text for b in buttons] == ["Save choices", "Reject all", "Accept all"]


def test_three_buttons_have_equal_prominence() -> None:
    for page in (settings_page(), settings_page(texts=DEFAULT_CATALOGS["ko"], language="ko")):
        buttons = parse(page).find_all("button")
        assert len(buttons) == 3
        # Same element, same attributes apart from the value: nothing makes one stand out.
        shapes = {
            (b.tag, tuple(sorted((k, v) for k, v in b.attrs.items() if k != "value")))
            for b in buttons
        }
        assert len(shapes) == 1
        assert buttons[0].attrs["class"] == "gpc-button"
        assert len({b.parent.tag if b.parent else None for b in buttons}) == 1


def test_every_category_has_a_labelled_checkbox_and_description() -> None:
    root = parse(settings_page(state=state(categories={"analytics": True})))
    boxes = root.find_all("input", type="checkbox")
    assert [box.attrs["value"] for box in boxes] == list(CATEGORIES)
    labels = {label.attrs["for"]: label for label in root.find_all("label")}
    for box in boxes:
        category = box.attrs["value"]
        assert box.attrs["name"] == "category"
        label = labels[box.attrs["id"] or ""]
        assert EN[f"category_{category}"] in label.text
        described = root.find("p", id=box.attrs["aria-describedby"] or "")
        assert described.text == EN[f"category_{category}_description"]
    by_value = {box.attrs["value"]: box.attrs for box in boxes}
    assert "disabled" in by_value["essential"] and "checked" in by_value["essential"]
    assert "Always on" in labels["gpc-page-essential"].text
    assert "checked" in by_value["analytics"]
    for category in ("analytics", "preference", "targeting"):
        assert "disabled" not in by_value[category]
    assert "checked" not in by_value["preference"]
    assert "checked" not in by_value["targeting"]
    # Checkboxes are inside a fieldset with a legend.
    fieldset = root.find("fieldset")
    assert fieldset.find("legend").text == "Categories"
    assert all(fieldset in list(box.ancestors()) for box in boxes)


def test_page_basics() -> None:
    root = parse(settings_page(texts=DEFAULT_CATALOGS["fr"], language="fr"))
    assert root.find("html").attrs["lang"] == "fr"
    assert root.find("title").text == "Paramètres des cookies"
    assert root.find("h1").text == "Paramètres des cookies"
    assert root.find("meta", name="viewport").attrs["content"] == (
        "width=device-width, initial-scale=1"
    )
    # Standalone: no external stylesheet, no image, no third-party script.
    assert not root.find_all("link") and not root.find_all("img")
    scripts = root.find_all("script")
    assert [s.attrs.get("type") for s in scripts] == ["application/json", None]
    assert (scripts[1].attrs["src"] or "").startswith("/_consent/widget.js?v=")
    assert scripts[1].attrs["data-page"] == "settings"
    assert widget_assets()["widget.css"].body.decode() in root.find("style").text


def test_gpc_notice_shown_only_when_honored() -> None:
    notice = EN["gpc_notice"]
    assert not parse(settings_page()).find_all("p", class_="gpc-notice")
    assert notice not in parse(dns_page()).text
    root = parse(settings_page(state=state(gpc=True, gpc_honored=True)))
    assert root.find("p", class_="gpc-notice").text == notice
    root = parse(dns_page(state=state(gpc=True, gpc_honored=True)))
    assert root.find("p", class_="gpc-notice").text.startswith("Opt-Out Request Honored")


def test_saved_confirmation() -> None:
    assert parse(settings_page()).find("p", class_="gpc-status").text == ""
    assert parse(settings_page(saved=True)).find("p", class_="gpc-status").text == EN["saved"]


def test_nonce_on_inline_style_and_scripts() -> None:
    root = parse(settings_page(nonce="r4nd0m"))
    assert root.find("style").attrs["nonce"] == "r4nd0m"
    assert [s.attrs["nonce"] for s in root.find_all("script")] == ["r4nd0m", "r4nd0m"]
    assert parse(dns_page(nonce="r4nd0m")).find("style").attrs["nonce"] == "r4nd0m"
    assert "nonce" not in parse(settings_page()).find("style").attrs


def test_embedded_config_matches_state() -> None:
    page_state = state(categories={"preference": True}, decided=True, source="user", mode="opt-out")
    config = embedded_config(parse(settings_page(state=page_state)))
    assert config["version"] == 1
    assert config["endpoint"] == ENDPOINT
    assert config["state"] == page_state.to_json_dict()
    assert set(config["texts"]) == TEXT_KEYS


def test_do_not_sell_page_structure() -> None:
    root = parse(dns_page())
    assert root.find("h1").text == "Your Privacy Choices"
    assert [h2.text for h2 in root.find_all("h2")] == [
        "Do Not Sell or Share My Personal Information",
        "Limit the Use of My Sensitive Personal Information",
    ]
    forms = root.find_all("form")
    assert len(forms) == 2
    actions = []
    for form in forms:
        assert form.attrs["method"] == "post"
        assert form.attrs["action"] == "/_consent/do-not-sell"
        hidden = {el.attrs["name"]: el.attrs["value"] for el in form.find_all("input")}
        assert hidden == {"csrf_token": "token-123", "next": "/shop?item=1"}
        (button,) = form.find_all("button")
        assert button.attrs["type"] == "submit" and button.attrs["name"] == "action"
        assert button.attrs["class"] == "gpc-button"
        actions.append(button.attrs["value"])
    assert actions == ["do_not_sell", "limit_sensitive"]
    assert "Limit the Use of My Sensitive Personal Information" in root.text
    assert not root.find_all("script")
    assert EN["dns_confirmed"] not in root.text
    assert EN["dns_in_effect"] in root.text  # targeting is off by default (opt-in)


def test_do_not_sell_page_confirmations() -> None:
    on = {"targeting": True}
    root = parse(dns_page(state=state(categories=on)))
    assert EN["dns_in_effect"] not in root.text
    assert EN["limit_in_effect"] not in root.text
    root = parse(dns_page(state=state(categories=on), confirmed="do_not_sell"))
    assert EN["dns_confirmed"] in root.text
    root = parse(dns_page(confirmed="limit_sensitive"))
    assert EN["limit_confirmed"] in root.text
    root = parse(dns_page(state=state(limit_sensitive=True)))
    assert EN["limit_in_effect"] in root.text
    root = parse(dns_page(limit_sensitive_form=False))
    assert len(root.find_all("form")) == 1


def test_links_on_pages() -> None:
    root = parse(settings_page(privacy_policy_url="/privacy"))
    hrefs = [a.attrs["href"] for a in root.find_all("a")]
    assert hrefs == ["/shop?item=1", "/_consent/do-not-sell?next=/shop%3Fitem%3D1", "/privacy"]
    root = parse(settings_page(do_not_sell_link=False))
    assert [a.attrs["href"] for a in root.find_all("a")] == ["/shop?item=1"]
    root = parse(dns_page())
    assert [a.attrs["href"] for a in root.find_all("a")] == [
        "/shop?item=1",
        "/_consent/settings?next=/shop%3Fitem%3D1",
    ]


# ---------------------------------------------------------------- escaping


def _poisoned_catalog(key: str) -> Mapping[str, str]:
    return build_catalogs({"en": {key: f"{key}:{PAYLOAD}"}})["en"]


def _assert_no_injection(page: bytes, expected_scripts: int) -> Element:
    assert b"<script>alert" not in page
    assert b"</script><!--" not in page
    root = parse(page)
    for script in root.find_all("script", type="application/json"):
        # The parser ends a script at the first "</script": the whole JSON must be inside.
        for raw in ("<", ">", "\u2028", "\u2029"):
            assert raw not in script.text
    assert len(root.find_all("script")) == expected_scripts
    for element in root.iter():
        for name in element.attrs:
            assert not name.startswith("on"), f"event handler attribute {name}"
    return root


@pytest.mark.parametrize("key", sorted(TEXT_KEYS))
def test_every_text_is_escaped_on_the_settings_page(key: str) -> None:
    texts = _poisoned_catalog(key)
    root = _assert_no_injection(settings_page(texts=texts), expected_scripts=2)
    # The JSON for the script survives intact, and the text is shown as text if shown.
    assert embedded_config(root)["texts"][key] == texts[key]
    visible = root.find("body").text.replace(root.find_all("script")[0].text, "")
    if key in {
        "settings_title",
        "settings_intro",
        "categories_legend",
        "always_on",
        "accept_all",
        "reject_all",
        "save_choices",
        "back_to_site",
        "dns_title",
    } or key.startswith("category_"):
        assert texts[key] in visible


@pytest.mark.parametrize("key", sorted(TEXT_KEYS))
def test_every_text_is_escaped_on_the_do_not_sell_page(key: str) -> None:
    texts = _poisoned_catalog(key)
    page = dns_page(
        texts=texts,
        state=state(gpc=True, gpc_honored=True, limit_sensitive=True),
        privacy_policy_url="/privacy",
    )
    root = _assert_no_injection(page, expected_scripts=0)
    if key.startswith(("dns_", "limit_")) and not key.endswith("confirmed"):
        assert texts[key] in root.text


def test_gpc_notice_and_saved_texts_are_escaped() -> None:
    for key, kwargs in (
        ("gpc_notice", {"state": state(gpc=True, gpc_honored=True)}),
        ("saved", {"saved": True}),
        ("privacy_policy", {"privacy_policy_url": "/privacy"}),
    ):
        texts = _poisoned_catalog(key)
        root = _assert_no_injection(settings_page(texts=texts, **kwargs), expected_scripts=2)
        assert texts[key] in root.find("main").text


def test_values_are_escaped() -> None:
    page = settings_page(
        csrf_token=PAYLOAD,
        next_url="/x?a=" + PAYLOAD,
        nonce='n"><script>alert(1)</script>',
        privacy_policy_url='/p?"><script>alert(1)</script>',
        state=state(policy_version=PAYLOAD),
    )
    root = _assert_no_injection(page, expected_scripts=2)
    form = root.find("form")
    assert form.find("input", name="csrf_token").attrs["value"] == PAYLOAD
    # Quotes and angle brackets do not make a local path unsafe: kept, and escaped.
    assert form.find("input", name="next").attrs["value"] == "/x?a=" + PAYLOAD
    assert root.find("style").attrs["nonce"] == 'n"><script>alert(1)</script>'
    assert embedded_config(root)["state"]["policy_version"] == PAYLOAD
    assert root.find_all("a")[-1].attrs["href"] == '/p?"><script>alert(1)</script>'
    dns = _assert_no_injection(dns_page(csrf_token=PAYLOAD, nonce=PAYLOAD), expected_scripts=0)
    assert {el.attrs["value"] for el in dns.find_all("input", name="csrf_token")} == {PAYLOAD}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"endpoint": '/x"><script>'}, "endpoint", id="endpoint-markup"),
        pytest.param({"endpoint": "//evil.example"}, "endpoint", id="endpoint-protocol-relative"),
        pytest.param({"endpoint": "https://evil.example"}, "endpoint", id="endpoint-absolute"),
        pytest.param({"endpoint": "/_consent/"}, "endpoint", id="endpoint-trailing-slash"),
        pytest.param({"language": 'en"><script>'}, "language", id="language-markup"),
        pytest.param({"privacy_policy_url": "javascript:alert(1)"}, "privacy", id="js-url"),
        pytest.param({"privacy_policy_url": "//evil.example"}, "privacy", id="pr-url"),
        pytest.param({"texts": {"accept_all": "x"}}, "texts is missing", id="partial-texts"),
    ],
)
def test_unsafe_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_page(**kwargs)


def test_json_for_script() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "x & y > z", "c": "\u2028\u2029"}
    text = json_for_script(value)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/shop?a=1#top", "/shop?a=1#top", id="local-path"),
        pytest.param(None, "/", id="missing"),
        pytest.param("", "/", id="empty"),
        pytest.param("//evil.example/", "/", id="protocol-relative"),
        pytest.param("/\\evil.example", "/", id="backslash"),
        pytest.param("https://evil.example", "/", id="absolute"),
        pytest.param("javascript:alert(1)", "/", id="javascript"),
        pytest.param("/a\nb", "/", id="newline"),
        pytest.param("/a b", "/", id="space"),
        pytest.param("/" + "a" * 3000, "/", id="too-long"),
    ],
)
def test_safe_next_path(value: str | None, expected: str) -> None:
    assert safe_next_path(value) == expected


# ---------------------------------------------------------------- form parsing


@pytest.mark.parametrize(
    ("body", "action", "categories"),
    [
        pytest.param(
            b"csrf_token=t&next=%2Fshop&action=accept_all&category=analytics",
            "accept_all",
            {"analytics": True, "preference": True, "targeting": True},
            id="accept-all",
        ),
        pytest.param(
            b"csrf_token=t&next=%2F&category=analytics&category=targeting&action=reject_all",
            "reject_all",
            {"analytics": False, "preference": False, "targeting": False},
            id="reject-all-ignores-boxes",
        ),
        pytest.param(
            b"csrf_token=t&next=%2F&category=analytics&category=targeting&action=save",
            "save",
            {"analytics": True, "preference": False, "targeting": True},
            id="save",
        ),
        pytest.param(
            b"csrf_token=t&action=save",
            "save",
            {"analytics": False, "preference": False, "targeting": False},
            id="save-nothing-checked",
        ),
        pytest.param(
            b"csrf_token=t&action=save&category=essential&category=preference",
            "save",
            {"analytics": False, "preference": True, "targeting": False},
            id="essential-ignored",
        ),
        pytest.param(
            b"csrf_token=t&next=%2F&action=do_not_sell",
            "do_not_sell",
            {"targeting": False},
            id="do-not-sell",
        ),
        pytest.param(
            b"csrf_token=t&next=%2F&action=limit_sensitive",
            "limit_sensitive",
            {},
            id="limit-sensitive",
        ),
    ],
)
def test_parse_settings_form(body: bytes, action: str, categories: dict[str, bool]) -> None:
    form = parse_settings_form(body)
    assert form.action == action
    assert dict(form.categories) == categories
    assert form.csrf_token == "t"
    assert form.limit_sensitive == (action == "limit_sensitive")


def test_parse_settings_form_next_and_token() -> None:
    form = parse_settings_form(b"csrf_token=a%2Bb%3D%3D&next=%2Fshop%3Fa%3D1&action=save")
    assert form.csrf_token == "a+b=="
    assert form.next_url == "/shop?a=1"
    assert parse_settings_form(b"csrf_token=t&action=save").next_url == "/"
    assert parse_settings_form(b"csrf_token=t&action=save&next=%2F%2Fevil").next_url == "/"
    assert parse_settings_form(b"csrf_token=t&action=save&next=https://e.x").next_url == "/"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "'action' is missing", id="empty"),
        pytest.param(b"csrf_token=t", "'action' is missing", id="no-action"),
        pytest.param(b"action=save", "'csrf_token' is missing", id="no-token"),
        pytest.param(b"action=save&csrf_token=", "'csrf_token' is missing", id="empty-token"),
        pytest.param(b"action=save&csrf_token=a&csrf_token=b", "sent 2 times", id="two-tokens"),
        pytest.param(b"action=save&action=accept_all&csrf_token=t", "sent 2 times", id="two-acts"),
        pytest.param(b"action=delete&csrf_token=t", "unknown action 'delete'", id="bad-action"),
        pytest.param(b"action=save&csrf_token=t&category=ads", "unknown consent cat", id="bad-cat"),
        pytest.param(b"action=save&csrf_token=t&evil=1", "unexpected form field", id="bad-field"),
        pytest.param(b"action=save&csrf_token=t&next=%2F&next=%2F", "sent 2", id="two-nexts"),
        pytest.param(b"action=save&csrf_token=t&garbage", "malformed", id="no-equals"),
        pytest.param(b"action=save&csrf_token=%FF", "malformed", id="not-utf8"),
        pytest.param("action=save&csrf_token=é".encode(), "ASCII", id="raw-non-ascii"),
        pytest.param(b"action=save&csrf_token=" + b"t" * 2000, "too long", id="long-token"),
        pytest.param(b"a=1&" * 40 + b"action=save", "malformed", id="too-many-fields"),
        pytest.param(b"action=save&csrf_token=" + b"t" * 9000, "limit is 8192", id="too-big"),
    ],
)
def test_parse_settings_form_errors(body: bytes, message: str) -> None:
    with pytest.raises(SettingsFormError, match=message):
        parse_settings_form(body)
    assert issubclass(SettingsFormError, ValueError)


def test_settings_page_round_trip() -> None:
    """What the rendered form posts (as a browser would encode it) parses back."""
    root = parse(settings_page(state=state(categories={"analytics": True})))
    form = root.find("form")
    fields = [
        (el.attrs["name"] or "", el.attrs["value"] or "")
        for el in form.find_all("input", type="hidden")
    ]
    fields += [
        ("category", box.attrs["value"] or "")
        for box in form.find_all("input", type="checkbox")
        if "checked" in box.attrs and "disabled" not in box.attrs
    ]
    fields.append(("action", "save"))
    parsed = parse_settings_form(urlencode(fields).encode("ascii"))
    assert parsed.categories == {"analytics": True, "preference": False, "targeting": False}
    assert parsed.csrf_token == "token-123"
    assert parsed.next_url == "/shop?item=1"


# ---------------------------------------------------------------- state, config, assets


def test_widget_state_normalizes_and_validates() -> None:
    value = WidgetState(categories={"analytics": True, "essential": False})
    assert dict(value.categories) == {
        "essential": True,
        "analytics": True,
        "preference": False,
        "targeting": False,
    }
    with pytest.raises(TypeError):
        value.categories["analytics"] = False  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown consent category"):
        WidgetState(categories={"ads": True})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="mode"):
        WidgetState(mode="opt-maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source"):
        WidgetState(source="cookie")  # type: ignore[arg-type]


def test_widget_state_json_round_trip() -> None:
    value = WidgetState(
        categories={"targeting": True},
        gpc=True,
        gpc_honored=False,
        decided=True,
        source="user",
        policy_version="2024-01",
        mode="opt-out",
    )
    assert WidgetState.from_json_dict(json.loads(json.dumps(value.to_json_dict()))) == value
    malformed: list[dict[str, object]] = [
        {"categories": []},
        {"gpc": "yes"},
        {"categories": {"analytics": 1}},
        {"mode": 3},
        {"source": "x"},
        {"policy_version": 2},
    ]
    for bad in malformed:
        with pytest.raises(ValueError):
            WidgetState.from_json_dict(bad)


def test_widget_config_json() -> None:
    body = render_widget_config(
        state=state(gpc=True),
        texts=DEFAULT_CATALOGS["ko"],
        language="ko",
        endpoint="/privacy/_consent",
        privacy_policy_url="https://example.com/privacy",
    )
    config = json.loads(body)
    assert config["version"] == 1
    assert config["language"] == "ko"
    assert config["endpoint"] == "/privacy/_consent"
    assert config["links"] == {
        "settings": "/privacy/_consent/settings",
        "do_not_sell": "/privacy/_consent/do-not-sell",
        "privacy_policy": "https://example.com/privacy",
    }
    assert config["texts"]["accept_all"] == "모두 허용"
    assert config["state"]["gpc"] is True
    assert "모두 허용".encode() in body  # UTF-8, not \u escapes
    body = render_widget_config(
        state=state(), texts=EN, language="en", endpoint=ENDPOINT, do_not_sell_link=False
    )
    assert json.loads(body)["links"]["do_not_sell"] is None


def test_assets_are_packaged_hashed_once() -> None:
    assets = widget_assets()
    assert widget_assets() is assets
    assert set(assets) == {"widget.js", "widget.css"}
    for name, asset in assets.items():
        assert asset.name == name
        assert asset.body
        assert asset.digest == hashlib.sha256(asset.body).hexdigest()[:32]
        assert asset.etag == f'"{asset.digest}"'
        assert asset.url(ENDPOINT) == f"/_consent/{name}?v={asset.digest}"
    assert assets["widget.js"].content_type == "text/javascript; charset=utf-8"
    assert assets["widget.css"].content_type == "text/css; charset=utf-8"
    js = assets["widget.js"].body.decode()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    for prop in ("--gpc-bg", "--gpc-fg", "--gpc-accent"):
        assert prop in assets["widget.css"].body.decode()
    assert b"prefers-reduced-motion" in assets["widget.css"].body
    assert b"</" not in assets["widget.css"].body  # it is inlined in <style> on the pages


def test_asset_headers() -> None:
    asset = widget_assets()["widget.js"]
    headers = dict(asset.headers(versioned=True))
    assert headers[b"cache-control"] == b"public, max-age=31536000, immutable"
    assert headers[b"etag"] == asset.etag.encode()
    assert headers[b"content-length"] == str(len(asset.body)).encode()
    assert dict(asset.headers(versioned=False))[b"cache-control"] == b"no-cache"


def test_widget_script_tag() -> None:
    tag = widget_script_tag(ENDPOINT, nonce='a"b', reload=False, link=False)
    root = TreeBuilder()
    root.feed(tag)
    (script,) = root.root.find_all("script")
    assert script.attrs["src"] == widget_assets()["widget.js"].url(ENDPOINT)
    assert script.attrs["data-css"] == widget_assets()["widget.css"].url(ENDPOINT)
    assert script.attrs["data-endpoint"] == ENDPOINT
    assert script.attrs["data-reload"] == "false"
    assert script.attrs["data-link"] == "none"
    assert script.attrs["nonce"] == 'a"b'
    assert "defer" in script.attrs
    with pytest.raises(ValueError):
        widget_script_tag("javascript:alert(1)")


def test_optional_categories_constant_matches_form() -> None:
    form = parse_settings_form(b"csrf_token=t&action=accept_all")
    assert tuple(form.categories) == OPTIONAL_CATEGORIES


def test_importing_the_widget_pulls_in_no_framework() -> None:
    code = (
        "import sys, gpc_middleware.widget.pages, gpc_middleware.widget.i18n; "
        "print(sorted({'starlette', 'werkzeug', 'flask'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == "[]"
