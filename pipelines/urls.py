"""One key per article, whatever URL variant links to it (for the seen-state of incremental crawls)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

_AMP_SEGMENT = re.compile(r"(?:^/amp(?=/)|/amp/?$|\.amp(?=\.html?$))", re.I)
_AMP_PARAMS = {"amp", "outputtype", "amp_js_v", "usqp"}


def url_key(url: str) -> str:
    """``host/path?query`` with tracking parameters, fragments, AMP variants and the scheme taken off.

    Tracking parameters (utm_*, fbclid, at_medium, ...) are removed and the rest sorted by courlan's
    ``normalize_url``; ``/amp``, ``/amp/...``, ``.amp.html`` and ``?amp=1`` variants map to the article,
    and a trailing slash does not make another article.
    """
    try:
        normalized = normalize_url(url)
    except (ValueError, TypeError):
        normalized = url
    parts = urlsplit(urldefrag(normalized)[0])
    path = _AMP_SEGMENT.sub("", parts.path).rstrip("/") or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in _AMP_PARAMS or (k.lower() == "outputtype" and v.lower() != "amp")])
    return urlunsplit(("", parts.netloc.lower(), path, query, ""))[2:]
