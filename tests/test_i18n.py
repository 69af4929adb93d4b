from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources

import pytest

from gpc_middleware.widget.i18n import (
    DEFAULT_CATALOGS,
    TEXT_KEYS,
    build_catalogs,
    format_language_tag,
    negotiate_language,
)

AVAILABLE = ("en", "ko", "fr")


@pytest.mark.parametrize(
    ("header", "override", "expected"),
    [
        pytest.param(None, None, "en", id="no-header"),
        pytest.param("", None, "en", id="empty-header"),
        pytest.param("fr", None, "fr", id="exact"),
        pytest.param("FR", None, "fr", id="case-insensitive"),
        pytest.param("fr-CA", None, "fr", id="region-prefix-fr"),
        pytest.param("ko-KR,ko;q=0.9,en-US;q=0.8", None, "ko", id="korean-browser"),
        pytest.param("zh-Hant-TW, ko;q=0.5", None, "ko", id="unavailable-then-fallback"),
        pytest.param("de, es;q=0.8", None, "en", id="nothing-available"),
        pytest.param("en;q=0.2, fr;q=0.9", None, "fr", id="q-order"),
        pytest.param("en;q=0.5, fr;q=0.5", None, "en", id="equal-q-keeps-header-order"),
        pytest.param("fr;q=0, ko;q=0.1", None, "ko", id="q-zero-refused"),
        pytest.param("fr;q=0", None, "en", id="only-refused"),
        pytest.param("*", None, "en", id="star-is-default"),
        pytest.param("*;q=0.5, fr;q=0.1", None, "en", id="star-before-fr"),
        pytest.param("en;q=0, *", None, "ko", id="star-default-refused"),
        pytest.param("fr;q=abc, ko", None, "ko", id="bad-q-skipped"),
        pytest.param("fr;q=2", None, "en", id="q-out-of-range-skipped"),
        pytest.param("<script>, ko", None, "ko", id="junk-tag-skipped"),
        pytest.param(";;;,,,=", None, "en", id="junk-header"),
        pytest.param("fr-x-private", None, "fr", id="private-use-truncated"),
        pytest.param("\tfr ;\tq=0.9 , ko;q=0.1", None, "fr", id="tabs-are-ows"),
        pytest.param("\x0bfr, ko", None, "ko", id="vertical-tab-is-not-ows"),
        pytest.param("fr\xa0, ko", None, "ko", id="no-break-space-is-not-ows"),
        pytest.param("fr;q=nan, ko", None, "ko", id="q-nan"),
        pytest.param("fr;q=0_9, ko;q=0.1", None, "ko", id="q-underscore"),
        pytest.param("fr;q=\x0b0.9, ko;q=0.1", None, "ko", id="q-vertical-tab"),
        pytest.param("fr;q=0.9999, ko;q=0.1", None, "ko", id="q-four-decimals"),
        pytest.param("fr;q=1.000, ko", None, "fr", id="q-one"),
        pytest.param("en", "fr", "fr", id="override-wins"),
        pytest.param("en", "ko-KR", "ko", id="override-prefix"),
        pytest.param("fr", "de", "fr", id="override-unavailable-ignored"),
        pytest.param("fr", "<bad>", "fr", id="override-malformed-ignored"),
        pytest.param(None, "", "en", id="override-empty"),
    ],
)
def test_negotiate_language(header: str | None, override: str | None, expected: str) -> None:
    assert negotiate_language(header, AVAILABLE, override=override) == expected


@pytest.mark.parametrize(
    ("header", "page", "expected"),
    [
        pytest.param("ko-KR,ko;q=0.9", "en", "ko", id="visitor-language-before-page"),
        pytest.param("de, it;q=0.5", "fr", "fr", id="page-when-visitor-has-none"),
        pytest.param(None, "fr-CA", "fr", id="page-without-header"),
        pytest.param("de, fr;q=0", "fr", "en", id="page-refused"),
        pytest.param("*", "ko", "ko", id="star-is-page"),
        pytest.param("de", "<bad>", "en", id="page-malformed-ignored"),
        pytest.param("de", "it", "en", id="page-unavailable"),
    ],
)
def test_page_language_is_the_fallback(header: str | None, page: str, expected: str) -> None:
    # One rule for the banner and the pages: the visitor's languages first, the page's
    # <html lang> only when none of them is available.
    assert negotiate_language(header, AVAILABLE, page=page) == expected
    assert negotiate_language(header, AVAILABLE, page=page, override="fr") == "fr"


def test_negotiate_language_other_default_and_spelling() -> None:
    assert negotiate_language("de", ["en", "pt-BR"], default="pt-BR") == "pt-BR"
    assert negotiate_language("pt-br", ["en", "pt-BR"]) == "pt-BR"
    assert negotiate_language("pt", ["en", "pt-BR"]) == "en"  # lookup never widens


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        # Traditional Chinese: asked for by script, or by a region that writes it
        # (CLDR likelySubtags: zh-TW, zh-HK and zh-MO are zh-Hant).
        pytest.param("zh-Hant", "zh-hant", id="zh-Hant"),
        pytest.param("zh-Hant-TW", "zh-hant", id="zh-Hant-TW"),
        pytest.param("zh-Hant-HK", "zh-hant", id="zh-Hant-HK"),
        pytest.param("zh-TW", "zh-hant", id="zh-TW"),
        pytest.param("zh-HK", "zh-hant", id="zh-HK"),
        pytest.param("zh-MO", "zh-hant", id="zh-MO"),
        pytest.param("zh-tw-x-private", "zh-hant", id="zh-TW-private-use"),
        # Simplified Chinese: the bare language, its regions, its script.
        pytest.param("zh", "zh", id="zh"),
        pytest.param("zh-CN", "zh", id="zh-CN"),
        pytest.param("zh-SG", "zh", id="zh-SG"),
        pytest.param("zh-Hans", "zh", id="zh-Hans"),
        pytest.param("zh-Hans-CN", "zh", id="zh-Hans-CN"),
        pytest.param("zh-Hans-TW", "zh", id="explicit-script-wins-over-region"),
        pytest.param("zh-US", "zh", id="diaspora-region-keeps-zh"),
        # European Portuguese: Portugal, and the locales CLDR parents to pt-PT.
        pytest.param("pt-PT", "pt-pt", id="pt-PT"),
        pytest.param("pt-AO", "pt-pt", id="pt-AO"),
        pytest.param("pt-MZ", "pt-pt", id="pt-MZ"),
        pytest.param("pt-CV", "pt-pt", id="pt-CV"),
        pytest.param("pt-GW", "pt-pt", id="pt-GW"),
        pytest.param("pt-ST", "pt-pt", id="pt-ST"),
        pytest.param("pt-TL", "pt-pt", id="pt-TL"),
        pytest.param("pt-MO", "pt-pt", id="pt-MO"),
        pytest.param("pt-CH", "pt-pt", id="pt-CH"),
        pytest.param("pt-LU", "pt-pt", id="pt-LU"),
        # Brazilian Portuguese: the bare language (CLDR's pt is Brazil's) and Brazil.
        pytest.param("pt", "pt", id="pt"),
        pytest.param("pt-BR", "pt", id="pt-BR"),
    ],
)
def test_written_variants_of_chinese_and_portuguese(tag: str, expected: str) -> None:
    # The same rule for the visitor's header, the site's forced language and the page's.
    assert negotiate_language(tag, DEFAULT_CATALOGS) == expected
    assert negotiate_language(f"it, {tag};q=0.5", DEFAULT_CATALOGS) == expected
    assert negotiate_language("it", DEFAULT_CATALOGS, override=tag) == expected
    assert negotiate_language("it", DEFAULT_CATALOGS, page=tag) == expected


@pytest.mark.parametrize(
    ("header", "available", "expected"),
    [
        pytest.param("zh-TW", ["en", "zh-tw", "zh-hant"], "zh-tw", id="exact-region-first"),
        pytest.param("zh-TW", ["en", "zh"], "zh", id="traditional-falls-back-to-zh"),
        pytest.param("zh-Hant", ["en", "zh"], "zh", id="script-falls-back-to-zh"),
        pytest.param("pt-PT", ["en", "pt"], "pt", id="european-falls-back-to-pt"),
        pytest.param("pt-AO", ["en", "pt"], "pt", id="angola-falls-back-to-pt"),
        pytest.param("zh-MO", ["en", "zh-hant-hk", "zh"], "zh-hant-hk", id="macao-reads-hk"),
        pytest.param("zh-HK", ["en", "zh-Hant-HK"], "zh-Hant-HK", id="hk-finds-its-catalog"),
        pytest.param("zh-CN", ["en", "zh-Hans"], "zh-Hans", id="cn-finds-hans"),
        pytest.param("zh", ["en", "zh-hant"], "en", id="zh-never-widens-to-hant"),
        pytest.param("pt", ["en", "pt-pt"], "en", id="pt-never-widens-to-pt-pt"),
        pytest.param("pt-BR", ["en", "pt-pt"], "en", id="brazil-never-gets-pt-pt"),
        pytest.param("zh-TW, zh-hant;q=0", ["en", "zh-hant", "zh"], "en", id="variant-refused"),
    ],
)
def test_written_variants_with_a_sites_languages(
    header: str, available: list[str], expected: str
) -> None:
    assert negotiate_language(header, available) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        pytest.param("en", "en", id="language"),
        pytest.param("zh-hant", "zh-Hant", id="script"),
        pytest.param("pt-pt", "pt-PT", id="region"),
        pytest.param("ZH-HANT-TW", "zh-Hant-TW", id="script-and-region"),
        pytest.param("es-419", "es-419", id="numeric-region"),
        pytest.param("de-ch-1996", "de-CH-1996", id="numeric-variant"),
        pytest.param("sl-rozaj-biske", "sl-rozaj-biske", id="variants"),
        pytest.param("en-US-x-ab-Test", "en-US-x-ab-test", id="private-use"),
        pytest.param("en-a-bbbb-cc", "en-a-bbbb-cc", id="extension"),
        pytest.param("X-WHATEVER", "x-whatever", id="private-use-tag"),
    ],
)
def test_format_language_tag(tag: str, expected: str) -> None:
    # RFC 5646 section 2.1.1's case conventions, for <html lang>.
    assert format_language_tag(tag) == expected


def test_negotiate_language_bounded_header() -> None:
    header = ",".join(["de"] * 1000 + ["fr"])
    assert negotiate_language(header, AVAILABLE) == "en"  # only the first ranges are read


def test_negotiate_language_default_must_be_available() -> None:
    with pytest.raises(ValueError, match="default language 'de'"):
        negotiate_language("fr", AVAILABLE, default="de")


SHIPPED = ("en", "ko", "fr", "es", "de", "ja", "zh", "zh-hant", "pt", "pt-pt")


@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_catalog_has_every_key(language: str) -> None:
    # The files themselves, not only the merged mapping: a key missing from a catalog
    # would otherwise show as the raw key in the widget.
    raw = json.loads(
        (resources.files("gpc_middleware.widget") / "catalogs" / f"{language}.json").read_text(
            encoding="utf-8"
        )
    )
    assert set(raw) == TEXT_KEYS
    assert all(
        isinstance(value, str) and value.strip() == value and value for value in raw.values()
    )
    assert dict(DEFAULT_CATALOGS[language]) == raw


def test_shipped_catalogs_are_distinct_translations() -> None:
    assert tuple(DEFAULT_CATALOGS) == SHIPPED
    # No two languages share a text; two written variants of one language may ("Aceitar
    # todos" is Brazilian and European), but not their running text.
    for key in ("accept_all", "reject_all", "save_choices", "banner_text", "dns_title"):
        languages_of: dict[str, set[str]] = {}
        for tag, catalog in DEFAULT_CATALOGS.items():
            languages_of.setdefault(catalog[key], set()).add(tag.split("-")[0])
        assert all(len(languages) == 1 for languages in languages_of.values()), key
    for variant, base in (("zh-hant", "zh"), ("pt-pt", "pt")):
        for key in ("banner_text", "settings_intro", "dns_title", "gpc_notice"):
            assert DEFAULT_CATALOGS[variant][key] != DEFAULT_CATALOGS[base][key], (variant, key)
    # Each catalog is written in its own script, not left in English.
    scripts = {
        "ko": "\uac00-\ud7a3",
        "ja": "\u3040-\u30ff",
        "zh": "\u4e00-\u9fff",
        "zh-hant": "\u4e00-\u9fff",
    }
    for language, script in scripts.items():
        for key in ("banner_title", "banner_text", "accept_all", "gpc_notice"):
            assert re.search(f"[{script}]", DEFAULT_CATALOGS[language][key]), (language, key)


# Characters that exist only in Simplified Chinese (their Traditional forms in brackets
# are what a Taiwanese reader expects): 个(個) 们(們) 设(設) 网(網) 这(這) 选(選) 择(擇)
# 为(為) 时(時) 关(關) 资(資) 讯(訊) 广(廣) 览(覽) 启(啟) 储(儲) 隐(隱) 请(請) 据(據)
# 务(務) 类(類) 别(別) 统(統) 计(計) 护(護) 与(與) 将(將) 还(還) 会(會) 户(戶) 经(經)
# 对(對) 数(數) 帮(幫) 体(體) 验(驗) 兴(興) 么(麼) 无(無) 须(須) 权(權)
SIMPLIFIED_ONLY = (
    "个们设网这选择为时关资讯广览启储隐请据务类别统计护与将还会户经对数帮体验兴么无须权"
)
# Words of Brazilian Portuguese that European Portuguese says otherwise.
BRAZILIAN_ONLY = ("você", "configura", "salvar", "salvas", "compartilh", "usuário")


def test_variants_are_written_as_their_readers_expect() -> None:
    traditional = " ".join(DEFAULT_CATALOGS["zh-hant"].values())
    assert not set(SIMPLIFIED_ONLY) & set(traditional)
    simplified = " ".join(DEFAULT_CATALOGS["zh"].values())
    assert set(SIMPLIFIED_ONLY) & set(simplified)  # the list does tell the scripts apart
    # Taiwan's words, not mainland China's: 設定 (设置), 個人資料 (个人信息), 儲存 (保存).
    assert DEFAULT_CATALOGS["zh-hant"]["settings_title"] == "Cookie 設定"
    assert "個人資料" in DEFAULT_CATALOGS["zh-hant"]["dns_title"]
    assert "儲存" in DEFAULT_CATALOGS["zh-hant"]["save_choices"]
    european = " ".join(DEFAULT_CATALOGS["pt-pt"].values()).lower()
    assert not [word for word in BRAZILIAN_ONLY if word in european]
    brazilian = " ".join(DEFAULT_CATALOGS["pt"].values()).lower()
    assert [word for word in BRAZILIAN_ONLY if word in brazilian]
    assert DEFAULT_CATALOGS["pt-pt"]["settings_title"] == "Definições de cookies"


def test_required_wording() -> None:
    en = DEFAULT_CATALOGS["en"]
    assert en["accept_all"] == "Accept all"
    assert en["reject_all"] == "Reject all"
    assert en["save_choices"] == "Save choices"
    assert en["settings_link"] == "Cookie settings"
    assert en["always_on"] == "Always on"
    assert en["gpc_notice"].startswith("Opt-Out Request Honored")
    assert en["dns_title"] == "Do Not Sell or Share My Personal Information"
    assert en["limit_title"] == "Limit the Use of My Sensitive Personal Information"
    assert en["gpc_status"] == "Opt-Out Request Honored"
    assert DEFAULT_CATALOGS["fr"]["reject_all"] == "Tout refuser"
    assert DEFAULT_CATALOGS["ko"]["reject_all"] == "모두 거부"
    # The CCPA link wording, recognisable in each language.
    assert DEFAULT_CATALOGS["es"]["dns_title"] == "No vender ni compartir mi información personal"
    assert DEFAULT_CATALOGS["de"]["accept_all"] == "Alle akzep\u00adtieren"  # a soft hyphen
    assert DEFAULT_CATALOGS["pt"]["dns_title"].startswith("Não vender nem compartilhar")
    assert DEFAULT_CATALOGS["ja"]["dns_title"] == "私の個人情報を販売・共有しない"
    assert DEFAULT_CATALOGS["zh"]["dns_title"] == "请勿出售或共享我的个人信息"
    assert DEFAULT_CATALOGS["zh-hant"]["dns_title"] == "請勿出售或分享我的個人資料"
    assert DEFAULT_CATALOGS["zh-hant"]["gpc_status"] == "已遵從選擇退出請求"
    assert (
        DEFAULT_CATALOGS["pt-pt"]["dns_title"] == "Não vender nem partilhar os meus dados pessoais"
    )
    assert DEFAULT_CATALOGS["pt-pt"]["gpc_status"] == "Pedido de oposição respeitado"


def test_catalogs_are_immutable() -> None:
    with pytest.raises(TypeError):
        DEFAULT_CATALOGS["en"]["accept_all"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        DEFAULT_CATALOGS["it"] = {}  # type: ignore[index]
    built = build_catalogs({"fr": {"accept_all": "J'accepte"}})
    with pytest.raises(TypeError):
        built["fr"]["accept_all"] = "x"  # type: ignore[index]


def test_override_merges_over_defaults_without_touching_them() -> None:
    built = build_catalogs({"fr": {"accept_all": "J'accepte tout"}, "EN": {"close": "Done"}})
    assert built["fr"]["accept_all"] == "J'accepte tout"
    assert built["fr"]["reject_all"] == DEFAULT_CATALOGS["fr"]["reject_all"]
    assert built["en"]["close"] == "Done"
    assert DEFAULT_CATALOGS["fr"]["accept_all"] == "Tout accepter"
    assert list(built) == list(SHIPPED)


def test_new_language_needs_every_key() -> None:
    italian = {key: f"it:{key}" for key in TEXT_KEYS}
    built = build_catalogs({"it": italian})
    assert built["it"]["accept_all"] == "it:accept_all"
    partial = dict(italian)
    del partial["close"]
    with pytest.raises(ValueError, match="missing close"):
        build_catalogs({"it": partial})


def test_languages_restricts_and_orders() -> None:
    built = build_catalogs(languages=["fr", "en", "fr"])
    assert list(built) == ["fr", "en"]
    with pytest.raises(ValueError, match="no texts for 'it'"):
        build_catalogs(languages=["it"])
    with pytest.raises(ValueError, match="at least one"):
        build_catalogs(languages=[])


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        pytest.param({"fr": {"acept_all": "x"}}, "unknown text key.*'acept_all'", id="unknown-key"),
        pytest.param({"fr": {"accept_all": ""}}, "non-blank string", id="empty-text"),
        pytest.param({"fr": {"accept_all": "   "}}, "non-blank string", id="blank-text"),
        pytest.param({"fr": {"accept_all": 3}}, "non-blank string", id="not-a-string"),
        pytest.param({"<fr>": {"accept_all": "x"}}, "not a language tag", id="bad-tag"),
        pytest.param({"fr": ["accept_all"]}, "must be a mapping", id="not-a-mapping"),
    ],
)
def test_bad_overrides_are_clear_errors(texts: Mapping[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_catalogs(texts)  # type: ignore[arg-type]
