"""Browser, operating system and device class from a User-Agent header."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

from protocol.messages import Device

_TABLETS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "nexus 10")
_MOBILE_OS = ("android", "ios", "windows phone", "blackberry os", "kaios", "firefox os")


@dataclass(frozen=True, slots=True)
class Client:
    """What a User-Agent says about the visitor's software and device."""

    browser: str | None
    os: str | None
    device: Device | None


def _version(family: str, major: str | None) -> str:
    return family if not major else f"{family} {major}"


@lru_cache(maxsize=4096)
def parse_user_agent(header: str) -> Client:
    """Parse a User-Agent (cached: sites see the same few strings over and over)."""
    if not header:
        return Client(browser=None, os=None, device=None)
    result = parse(header[:1024])
    ua, os_, device = result.user_agent, result.os, result.device
    browser = _version(ua.family, ua.major) if ua and ua.family != "Other" else None
    os_name = _version(os_.family, os_.major) if os_ and os_.family != "Other" else None
    text = header.lower()
    kind: Device
    if device is not None and device.family == "Spider":
        kind = "bot"
    elif any(word in text for word in _TABLETS) or ("android" in text and "mobile" not in text):
        kind = "tablet"
    elif "mobi" in text or (os_ is not None and os_.family.lower() in _MOBILE_OS):
        kind = "mobile"
    elif os_name is not None or browser is not None:
        kind = "desktop"
    else:
        kind = "other"
    return Client(browser=browser, os=os_name, device=kind)


def warm_up() -> None:
    """Compile the parser's regexes now (about 0.5 s) so the first visitor does not wait on the event loop."""
    parse("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
