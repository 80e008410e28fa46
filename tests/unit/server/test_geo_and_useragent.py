"""Country from time zone and language, and the User-Agent parser, without sockets."""

from __future__ import annotations

import pytest

from server.geo import CountryResolver, Geolocator
from server.useragent import parse_user_agent

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
    "Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(scope="module")
def countries() -> CountryResolver:
    resolver = CountryResolver()
    if not resolver.zones:
        pytest.skip("no tz database tables (zone.tab) on this system")
    return resolver


@pytest.mark.parametrize(
    ("zone", "code"),
    [("Europe/Vienna", "AT"), ("America/New_York", "US"), ("Asia/Tokyo", "JP"), ("Asia/Calcutta", "IN")],
)
def test_country_from_time_zone(countries: CountryResolver, zone: str, code: str) -> None:
    assert countries.from_timezone(zone) == code


def test_country_names_and_unknowns(countries: CountryResolver) -> None:
    assert countries.name("AT") == "Austria"
    assert countries.from_timezone("UTC") is None
    assert countries.from_timezone("Mars/Olympus_Mons") is None


@pytest.mark.parametrize(("tag", "code"), [("de-AT", "AT"), ("en_GB", "GB"), ("zh-Hant-TW", "TW"), ("fr", None)])
def test_country_from_language(tag: str, code: str | None) -> None:
    assert CountryResolver.from_language(tag) == code


def test_locate_prefers_time_zone_then_language(countries: CountryResolver) -> None:
    geo = Geolocator(countries=countries)
    assert geo.locate(ip="203.0.113.5", timezone="Europe/Berlin", language="en-US").country_code == "DE"
    fallback = geo.locate(ip=None, timezone="UTC", language="pt-BR")
    assert (fallback.country_code, fallback.country) == ("BR", "Brazil")
    assert geo.locate(ip=None, timezone="", language="").country_code is None


@pytest.mark.parametrize(
    ("header", "browser", "os", "device"),
    [
        (IPHONE, "Mobile Safari 17", "iOS 17", "mobile"),
        (IPAD, "Mobile Safari 16", "iOS 16", "tablet"),
        (FIREFOX_WINDOWS, "Firefox 128", "Windows 10", "desktop"),
        (ANDROID_PHONE, "Chrome 126", "Android 14", "mobile"),
        (GOOGLEBOT, "Googlebot 2", None, "bot"),
        ("", None, None, None),
    ],
)
def test_user_agent(header: str, browser: str | None, os: str | None, device: str | None) -> None:
    client = parse_user_agent(header)
    assert (client.browser, client.os, client.device) == (browser, os, device)
