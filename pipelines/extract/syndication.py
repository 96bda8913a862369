"""Who a story is credited to: the outlet itself, or the agency/partner it was syndicated from."""

from __future__ import annotations

import re
from typing import Any

from pipelines.extract.metadata import clean, names

#: Wire agencies by canonical credit, with the other ways pages write them.
AGENCIES = {
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse", "AFP News Agency"),
    "AP": ("AP", "Associated Press", "The Associated Press"),
    "Reuters": ("Reuters", "Thomson Reuters"),
    "PTI": ("PTI", "Press Trust of India"),
    "IANS": ("IANS", "Indo-Asian News Service"),
    "ANI": ("ANI", "Asian News International"),
    "UNI": ("UNI", "United News of India"),
    "Bloomberg": ("Bloomberg", "Bloomberg News"),
    "dpa": ("dpa", "Deutsche Presse-Agentur"),
    "EFE": ("EFE", "Agencia EFE"),
    "Xinhua": ("Xinhua", "Xinhua News Agency"),
    "Anadolu": ("Anadolu", "Anadolu Agency", "AA"),
    "UPI": ("UPI", "United Press International"),
    "AAP": ("AAP", "Australian Associated Press"),
    "Kyodo": ("Kyodo", "Kyodo News"),
    "Yonhap": ("Yonhap",),
    "ANSA": ("ANSA",),
    "TASS": ("TASS",),
    "WAFA": ("WAFA",),
}
_AGENCY_BY_NAME = {alias.casefold(): canonical for canonical, aliases in AGENCIES.items() for alias in aliases}
_SOURCE_LINE = re.compile(r"^(?:•\s*)?(?:source|sources|via|courtesy(?: of)?)\s*:\s*(.{2,80})$", re.I)
_DATELINE = re.compile(
    r"^[^\n()]{0,80}?\(("
    + "|".join(re.escape(a) for a in sorted(_AGENCY_BY_NAME, key=len, reverse=True))
    + r")\)\s*[-–—:]",
    re.I,
)
_SYNDICATED_NOTE = re.compile(r"published from a syndicated feed|syndicated (?:feed|content|story)|via wire", re.I)


def agency(name: str) -> str:
    """The canonical agency credit for ``name``, or '' if it is not a wire agency."""
    return _AGENCY_BY_NAME.get(clean(name).casefold(), "")


def detect_source(
    ld_article: dict[str, Any], page_lines: list[str], body_lines: list[str], authors: list[str], site_name: str
) -> str:
    """The credited origin of the story: an explicit credit, a wire dateline or byline, else the site itself."""
    for key in ("sourceOrganization", "isBasedOn", "provider"):
        value = ld_article.get(key)
        if isinstance(value, dict) and isinstance(value.get("publisher"), (dict, list)):
            value = value["publisher"]
        credited = names(value) if isinstance(value, (dict, list)) else []
        alternate = value.get("alternateName") if isinstance(value, dict) else None
        for name in ([clean(alternate)] if isinstance(alternate, str) else []) + credited:
            if name and name.casefold() != site_name.casefold():
                return agency(name) or name
    for line in page_lines:
        if match := _SOURCE_LINE.match(line.strip().lstrip("•").strip()):
            return agency(match[1]) or clean(match[1])
    for line in body_lines[:3]:
        if match := _DATELINE.match(line):
            return agency(match[1])
    wire_authors = [agency(name) for name in authors if agency(name)]
    if wire_authors:
        return wire_authors[0]
    if any(_SYNDICATED_NOTE.search(line) for line in body_lines[-3:]):
        for line in body_lines:
            for word in re.findall(r"\b[A-Z][A-Za-z]+\b", line):
                if agency(word):
                    return agency(word)
    return site_name
