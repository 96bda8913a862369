"""Benchmark: what each gzip level costs per fetch, against the WARC bytes it saves (issue 17, step 1).

Builds each fetch's three records as the archiver does (response: HTTP head and page; request; metadata) for the
real article pages of the shared corpora (trafilatura-eval and the article extraction benchmark, as
bench/replay_speed.py reads them; 2,000 small generated pages where the corpora are absent), then packs them as
the WARC writer does (one gzip member per record, zlib's memory level GZIP_MEMLEVEL) at each level from 1 to 9,
in several passes (the levels take turns in each pass and the best pass is kept: this VM's speed drifts). Prints
per level the CPU time per fetch and the WARC bytes, both against zlib's default level 6 (Heritrix's), measured
in the same run, and marks the level in use (WARC_GZIP_LEVEL's default). Pages a server sends content-encoded
are packed at level 1 whatever the setting: not measured here.

    .venv/bin/python bench/warc_gzip_levels.py [--passes 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.replay_speed import corpus_pages  # noqa: E402
from crawler.warc.records import WarcRecord, http_head, warc_date, warc_record  # noqa: E402
from crawler.warc.writer import GZIP_LEVEL, pack  # noqa: E402

LEVELS = range(1, 10)
BASELINE = 6  # zlib's default, Heritrix's


def fetch_records(url: str, page: bytes) -> list[WarcRecord]:
    """One fetch's records, as crawler.warc.archiver writes them for a page served without content-encoding."""
    date = warc_date()
    head = http_head("HTTP/1.1 200 OK", [
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))),
        ("Date", "Wed, 02 Dec 2026 06:00:00 GMT"), ("Cache-Control", "max-age=60"), ("Server", "nginx")])
    response = warc_record("response", url, head + page, {"WARC-Date": date, "WARC-IP-Address": "203.0.113.7"},
                           payload_from=len(head))
    request_head = http_head(f"GET {url} HTTP/1.1", [
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("Accept-Language", "en"), ("User-Agent", "newsarchive (+https://example.org/bot)"),
        ("Accept-Encoding", "gzip, deflate, br")])
    request = warc_record("request", url, request_head, {"WARC-Date": date,
                                                         "WARC-Concurrent-To": response.record_id},
                          payload_from=len(request_head))
    fields = (b"via: https://www.bulk.test/sitemap.xml\r\nhopsFromSeed: L\r\nfetchTimeMs: 12\r\n"
              b"outlet: bulk\r\nrole: article\r\n")
    metadata = warc_record("metadata", url, fields, {"WARC-Date": date, "WARC-Refers-To": response.record_id,
                                                    "WARC-Concurrent-To": response.record_id})
    return [response, request, metadata]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    pages = corpus_pages()
    fetches = [fetch_records(url, page) for url, page in pages]
    page_mb = sum(len(page) for _, page in pages) / 1e6
    print(f"{len(fetches)} fetches, {page_mb:.1f} MB of pages; gzip level in use: {GZIP_LEVEL}", flush=True)
    best = {level: float("inf") for level in LEVELS}
    size = {}
    for number in range(1, args.passes + 1):
        for level in LEVELS:
            started = time.process_time()
            size[level] = sum(len(pack(records, level)[0]) for records in fetches)
            best[level] = min(best[level], time.process_time() - started)
        print(f"pass {number}/{args.passes} done", flush=True)
    base_us = best[BASELINE] / len(fetches) * 1e6
    print(f"\nlevel  ms/fetch  WARC MB  time vs {BASELINE}  bytes vs {BASELINE}")
    for level in LEVELS:
        us = best[level] / len(fetches) * 1e6
        mark = "   <- in use (WARC_GZIP_LEVEL)" if level == GZIP_LEVEL else ""
        print(f"{level:5}  {us / 1000:8.2f}  {size[level] / 1e6:7.2f}  {us / base_us:9.2f}x  "
              f"{size[level] / size[BASELINE]:10.3f}x{mark}")


if __name__ == "__main__":
    main()
