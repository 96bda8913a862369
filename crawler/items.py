"""What a spider hands to the pipelines for each article it fetched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArticleCapture:
    """An article page as archived: where it lives in the WARCs and how it was found."""

    outlet: str
    url: str
    status: int
    warc: dict[str, Any] = field(default_factory=dict)
    discovery: dict[str, Any] = field(default_factory=dict)
