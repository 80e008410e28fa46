"""Where a visitor is: a MaxMind database when given, else the browser's time zone and language."""

from __future__ import annotations

import contextlib
import importlib.resources
import ipaddress
import logging
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Location:
    """A visitor's country (ISO 3166 alpha-2 and English name) and maybe city."""

    country_code: str | None = None
    country: str | None = None
    city: str | None = None


def _tz_files(name: str) -> Iterator[Path]:
    for directory in zoneinfo.TZPATH:
        yield Path(directory) / name
    with contextlib.suppress(ModuleNotFoundError, TypeError):  # the tzdata wheel (Windows has no zoneinfo)
        yield Path(str(importlib.resources.files("tzdata") / "zoneinfo" / name))


def _read_table(name: str) -> list[list[str]]:
    for path in _tz_files(name):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return []


def _read_links() -> dict[str, str]:
    """Backward-compatible zone names (browsers still report Asia/Calcutta) to canonical ones."""
    for path in _tz_files("tzdata.zi"):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        return {parts[2]: parts[1] for parts in (line.split() for line in lines) if len(parts) == 3 and parts[0] == "L"}
    return {}


class CountryResolver:
    """Maps time zones and language tags to countries using the system's tz database tables."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {row[0]: row[1] for row in _read_table("iso3166.tab") if len(row) >= 2}
        self.zones: dict[str, str] = {row[2]: row[0] for row in _read_table("zone.tab") if len(row) >= 3}
        for alias, target in _read_links().items():
            if target in self.zones and alias not in self.zones:
                self.zones[alias] = self.zones[target]

    def from_timezone(self, timezone: str) -> str | None:
        """The country of an IANA zone such as ``Europe/Vienna``, if it has one."""
        return self.zones.get(timezone)

    @staticmethod
    def from_language(language: str) -> str | None:
        """The region of a language tag such as ``de-AT``, if it names one."""
        for part in language.replace("_", "-").split("-")[1:]:
            if len(part) == 2 and part.isalpha():
                return part.upper()
        return None

    def name(self, code: str) -> str | None:
        """English name of a country code."""
        return self.names.get(code)


class Geolocator:
    """Locates visitors: MaxMind by IP when configured and known, else time zone, else language."""

    def __init__(self, geoip_path: Path | None = None, countries: CountryResolver | None = None) -> None:
        self.countries = countries or CountryResolver()
        self._reader: Any = None
        if geoip_path is not None:
            import maxminddb  # noqa: PLC0415 - only needed with --geoip

            self._reader = maxminddb.open_database(str(geoip_path))

    def close(self) -> None:
        """Release the MaxMind database."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _from_ip(self, ip: str | None) -> Location | None:
        if self._reader is None or not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if address.is_private or address.is_loopback:
            return None
        try:
            record = self._reader.get(str(address))
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code")
        if not code:
            return None
        name = (country.get("names") or {}).get("en") or self.countries.name(code)
        city = ((record.get("city") or {}).get("names") or {}).get("en")
        return Location(country_code=code, country=name, city=city)

    def locate(self, *, ip: str | None, timezone: str, language: str) -> Location:
        """The best guess of where a visitor is."""
        found = self._from_ip(ip)
        if found is not None:
            return found
        code = self.countries.from_timezone(timezone) or self.countries.from_language(language)
        if code is None:
            return Location()
        return Location(country_code=code, country=self.countries.name(code))
