"""``make demo``: crawl every outlet of the local outlet web (no network) and show what was archived."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.localweb.server import LOCAL_CRAWL_SETTINGS, LocalWeb

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--archive", type=Path, default=Path("/tmp/newsarchive-demo"), help="output root")
    args = parser.parse_args()
    archive = args.archive.resolve()
    with LocalWeb() as web:
        print(f"Local outlet web: {web.proxy_url} ({len(web.sites)} hosts); archive: {archive}", flush=True)
        command = [sys.executable, "-m", "scrapy", "crawlall", "-s", f"LOCAL_WEB_PROXY={web.proxy_url}",
                   "-s", f"ARCHIVE_ROOT={archive}", "-s", "LOG_LEVEL=WARNING"]
        for name, value in LOCAL_CRAWL_SETTINGS.items():
            command += ["-s", f"{name}={value}"]
        crawled = subprocess.run(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    print("\nWhat the archive holds:")
    failures = 0
    for warc in sorted(archive.glob("*/warc/*.warc.gz")):
        with open(warc, "rb") as fh:
            records = list(ArchiveIterator(fh))
        kinds = Counter(r.rec_type for r in records)
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True)
        failures += check.returncode != 0
        first = records[0].rec_type if records else "-"
        print(
            f"  {warc.relative_to(archive)}  {warc.stat().st_size / 1024:.0f} KiB  first={first}  "
            + " ".join(f"{k}={v}" for k, v in sorted(kinds.items()))
            + f"  warcio check: {'pass' if check.returncode == 0 else 'FAIL'}"
        )
    return 1 if failures or crawled.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
