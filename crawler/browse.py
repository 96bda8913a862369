"""``make browse``: the archive in pywb, one collection per outlet, on 127.0.0.1.

pywb runs from its own virtual environment (``.venv-pywb``; it pins old
dependencies). Its configuration is written to ``<archive>/.pywb/config.yaml``:
each outlet's ``warc/`` folder and its CDXJ ``indexes/`` (written as WARCs
close; any missing one is made here first). Replay is unframed, so a page's
own HTML is what the browser shows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from crawler.warc.index import write_cdxj

REPO = Path(__file__).resolve().parent.parent
WAYBACK = REPO / ".venv-pywb" / "bin" / "wayback"


def prepare(archive: Path) -> tuple[Path, list[str]]:
    """Index what is not indexed yet and write pywb's config; return its folder and the collections."""
    archive = archive.resolve()
    collections = {}
    for warc_dir in sorted(archive.glob("*/warc")):
        outlet = warc_dir.parent
        index_dir = outlet / "indexes"
        for warc in sorted(warc_dir.glob("*.warc.gz")):
            if not (index_dir / f"{warc.name}.cdxj").exists():
                write_cdxj(warc, index_dir)
        if index_dir.is_dir():
            collections[outlet.name] = {"index_paths": f"{index_dir}/", "archive_paths": f"{warc_dir}/"}
    folder = archive / ".pywb"
    folder.mkdir(parents=True, exist_ok=True)
    config = {"collections": collections, "framed_replay": False}
    (folder / "config.yaml").write_text(json.dumps(config, indent=2) + "\n", "utf-8")  # JSON is valid YAML
    return folder, sorted(collections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=Path(os.environ.get("NEWSARCHIVE_ROOT", "archive")))
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    if not WAYBACK.exists():
        sys.exit(f"pywb is not installed at {WAYBACK}: run `make pywb` first")
    folder, collections = prepare(args.archive)
    if not collections:
        sys.exit(f"no archived outlet found under {args.archive.resolve()} (expected <outlet>/warc/*.warc.gz)")
    print(f"Browsing {len(collections)} outlet(s) at http://127.0.0.1:{args.port}/ : {', '.join(collections)}")
    print(f"  e.g. http://127.0.0.1:{args.port}/{collections[0]}/*/https://... (Ctrl-C to stop)", flush=True)
    os.chdir(folder)
    os.execv(str(WAYBACK), [str(WAYBACK), "-b", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
