"""Reliability checks: a crawl of the fault site, and crawls and replays SIGKILLed at random points.

``make reliability`` (``python -m tests.reliability``) runs them all with the full
budget and prints the report; ``tests/test_reliability.py`` runs the same code with
a smaller one. Each check looks at what really happened: the requests the local
web answered, the WARC records on disk (read back with warcio), the catalog rows
(SQLite) and the text files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO, run_crawl, scrapy_command
from tests.localweb import LocalWeb
from tests.localweb.faults import (
    ARCHIVED,
    ELSEWHERE_HOST,
    ENORMOUS_FEED_ITEMS,
    FAULT_CRAWL_SETTINGS,
    NOT_FETCHED,
    REFUSED,
    REJECTED,
    Fault,
    write_fault_site,
)
from tests.localweb.generate import article_html, write_bulk_site, write_warc
from tests.warc_reading import read_records, warcio_check

ARTICLE_PATH = re.compile(r"/news/[a-z0-9-]+$")
DEFAULT_MAXSIZE = 32 << 20  # settings.DOWNLOAD_MAXSIZE
KILL_SETTINGS = {"SPIDER_MODULES": "tests.outlets", "WARC_MAX_SIZE": "150000", "LOG_LEVEL": "INFO"}


@dataclass
class Check:
    """One line of the report: what was checked, what happened, and whether that is what must happen."""

    name: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Archive:
    """What an archive folder holds for one outlet, read back from disk."""

    root: Path
    outlet: str
    captures: Counter[str] = field(default_factory=Counter)  # URL -> complete 200 responses in closed WARCs
    payloads: dict[str, set[bytes]] = field(default_factory=dict)
    rows: dict[str, list[sqlite3.Row]] = field(default_factory=dict)  # URL -> catalog rows

    @classmethod
    def read(cls, root: Path, outlet: str) -> Archive:
        archive = cls(root, outlet)
        for path in sorted((root / outlet / "warc").glob("*.warc.gz")):
            for record in read_records(path):
                if record.type == "response" and record.status == 200:
                    archive.captures[record.uri] += 1
                    archive.payloads.setdefault(record.uri, set()).add(record.raw_payload)
        catalog = root / "catalog.sqlite"
        if catalog.exists():
            with sqlite3.connect(catalog) as db:
                db.row_factory = sqlite3.Row
                for row in db.execute("SELECT * FROM captures WHERE outlet = ?", (outlet,)):
                    archive.rows.setdefault(row["url"], []).append(row)
        return archive

    def text_of(self, url: str) -> str:
        rows = [r for r in self.rows.get(url, []) if r["status"] == "extracted"]
        return (self.root / rows[0]["article_text_path"]).read_text("utf-8") if rows else ""


def served_completely(web: LocalWeb, max_size: int) -> dict[str, set[bytes]]:
    """Article URL -> the bodies the server sent in full with status 200, within the crawl's size cap."""
    bodies: dict[str, set[bytes]] = {}
    for served in web.served:
        if (
            served.status == 200
            and served.complete
            and len(served.body) <= max_size
            and ARTICLE_PATH.search(served.url)
        ):
            bodies.setdefault(f"https://{served.url}", set()).add(served.body)
    return bodies


def exactly_once(web: LocalWeb, archive: Archive, max_size: int = DEFAULT_MAXSIZE) -> Check:
    """The invariant: every article served completely is in the WARCs exactly once, with the bytes served, and
    in the catalog (with its text files, or the reason it has none); nothing else is lost."""
    served = served_completely(web, max_size)
    problems = []
    for url, bodies in sorted(served.items()):
        if archive.captures[url] != 1:
            problems.append(f"{url}: {archive.captures[url]} captures")
        elif not archive.payloads[url] <= bodies:
            problems.append(f"{url}: archived bytes differ from those served")
        rows = archive.rows.get(url, [])
        if len(rows) != 1:
            problems.append(f"{url}: {len(rows)} catalog rows")
        elif rows[0]["status"] == "extracted":
            missing = [
                rows[0][k]
                for k in ("article_text_path", "page_text_path", "metadata_path")
                if not (archive.root / rows[0][k]).is_file()
            ]
            problems += [f"{url}: {path} missing" for path in missing]
        elif not rows[0]["reason"]:
            problems.append(f"{url}: rejected without a reason")
    observed = f"{len(served)} articles served completely (within the {max_size >> 20} MB cap); " + (
        "each archived once, catalogued, its files present" if not problems else "; ".join(problems[:5])
    )
    return Check("every article served completely is in the archive exactly once", "holds", observed, not problems)


# --- the fault site ----------------------------------------------------------------------------------


@dataclass
class FaultRun:
    faults: list[Fault]
    web: LocalWeb
    archive: Archive
    stats: dict[str, float]
    log: str
    returncode: int
    seconds: float


def run_fault_crawl(workdir: Path) -> FaultRun:
    """Write the fault site, crawl it once through the local web, and read back what was archived."""
    faults = write_fault_site(workdir / "site")
    summary = workdir / "summary.json"
    started = time.monotonic()
    with LocalWeb(workdir / "site") as web:
        crawl = run_crawl(
            "faults", workdir / "archive", web, {**FAULT_CRAWL_SETTINGS, "RUN_SUMMARY_FILE": str(summary)}, timeout=300
        )
    seconds = time.monotonic() - started
    (workdir / "crawl.log").write_text(crawl.log, "utf-8")
    stats = json.loads(summary.read_text("utf-8"))["stats"] if summary.exists() else {}
    return FaultRun(
        faults, web, Archive.read(workdir / "archive", "faults"), stats, crawl.log, crawl.returncode, seconds
    )


def fault_checks(run: FaultRun) -> list[Check]:
    """One check per fault, then the site-wide ones (hostile XML, the cycle, the invariant)."""
    checks = [_fault_check(run, fault) for fault in run.faults]
    requested = Counter(s.url for s in run.web.served)
    stats = run.stats
    tracebacks = run.log.count("Traceback (most recent call last)")
    leaked = [p for p in (run.archive.root / "faults").rglob("*") if p.is_file() and b"root:x:0:0" in p.read_bytes()]
    checks += [
        Check(
            "external entities resolved",
            "never",
            f"{ELSEWHERE_HOST} asked {sum(v for k, v in requested.items() if k.startswith(ELSEWHERE_HOST))} times; "
            f"/etc/passwd content in {len(leaked)} archived files",
            not leaked and not any(k.startswith(ELSEWHERE_HOST) for k in requested),
        ),
        Check(
            "sitemap-index cycle",
            "each index fetched once",
            f"index-a {requested['www.faults.test/sitemaps/index-a.xml']}x, "
            f"index-b {requested['www.faults.test/sitemaps/index-b.xml']}x",
            requested["www.faults.test/sitemaps/index-a.xml"] == 1 == requested["www.faults.test/sitemaps/index-b.xml"],
        ),
        Check(
            "enormous feed",
            f"{ENORMOUS_FEED_ITEMS:,} entries read, old ones skipped",
            f"{stats.get('discovery/too_old', 0):,} entries skipped as too old",
            stats.get("discovery/too_old", 0) == ENORMOUS_FEED_ITEMS - 1,
        ),
        Check(
            "the crawl itself",
            "finishes, exit 0, no traceback",
            f"exit {run.returncode}, {stats.get('finish_reason', run.log[-200:] if not stats else 'finished')}, "
            f"{run.seconds:.0f} s, {tracebacks} tracebacks in its log",
            run.returncode == 0 and tracebacks == 0,
        ),
        exactly_once(run.web, run.archive, int(FAULT_CRAWL_SETTINGS["DOWNLOAD_MAXSIZE"])),
    ]
    return checks


def _fault_check(run: FaultRun, fault: Fault) -> Check:
    statuses = [s.status for s in sorted(run.web.served, key=lambda s: s.started) if s.url == fault.key]
    captures = run.archive.captures[fault.url]
    rows = run.archive.rows.get(fault.url, [])
    if not statuses:
        observed, outcome = "never requested", NOT_FETCHED
    elif rows and rows[0]["status"] == "extracted":
        observed, outcome = "extracted", ARCHIVED
    elif rows:
        observed, outcome = f"no text: {rows[0]['reason']} ({rows[0]['detail'][:60]})", REJECTED
    else:
        observed, outcome = "given up, counted in the crawl stats", REFUSED
    answers = ", ".join("no answer" if status == 0 else str(status) for status in statuses)
    observed = f"{len(statuses)} request(s) [{answers}]; {captures} capture(s) archived; {observed}"
    ok = outcome == fault.expect or (
        fault.expect == REFUSED and outcome == REJECTED and rows[0]["reason"] == "too-large"
    )
    if fault.expect in (ARCHIVED, REJECTED):
        ok = ok and captures == 1
    if fault.text:
        found = fault.text in run.archive.text_of(fault.url)
        observed += f"; {fault.text!r} {'in' if found else 'NOT in'} the text"
        ok = ok and found
    return Check(fault.kind, fault.expect, observed, ok)


# --- SIGKILL trials ----------------------------------------------------------------------------------


def _env(temporary: Path | None = None) -> dict[str, str]:
    """The environment of the processes under test; ``temporary``, their temporary folder (TMPDIR)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("http_proxy", None), env.pop("https_proxy", None)
    if temporary is not None:
        env["TMPDIR"] = str(temporary)
    return env


def _kill_after(
    command: list[str], ready: Callable[[], bool], delay: float, log: Path, temporary: Path | None = None
) -> tuple[bool, list[str]]:
    """Start ``command``, wait until ``ready()`` then ``delay`` seconds more, SIGKILL it; (killed? False if it
    ended first, and the processes it had started that were still alive 5 seconds after the kill)."""
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=REPO, env=_env(temporary), stdout=sink, stderr=sink)
    deadline = time.monotonic() + 60
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        process.wait(timeout=delay)
        return False, []
    except subprocess.TimeoutExpired:
        children = _descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 5
    while (alive := [pid for pid in children if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True, [f"pid {pid} ({_command_line(pid)[:80]})" for pid in alive]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, as /proc lists them now (the children of each of its threads)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie waiting for its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _no_partial_outputs(root: Path) -> list[str]:
    """Problems with the text tree as a reader sees it: every visible file whole, every row's files present."""
    problems = []
    for sidecar in root.glob("*/text/**/*.json"):
        try:
            meta = json.loads(sidecar.read_text("utf-8"))
        except ValueError:
            problems.append(f"partial sidecar {sidecar}")
            continue
        text = sidecar.with_suffix(".txt")
        if not text.is_file():
            problems.append(f"sidecar without its article text: {sidecar}")
        elif meta.get("word_count") is not None and len(text.read_text("utf-8").split()) < meta["word_count"] // 2:
            problems.append(f"article text shorter than its sidecar says: {text}")
    catalog = root / "catalog.sqlite"
    if catalog.exists():
        with sqlite3.connect(catalog) as db:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                problems.append("catalog integrity check failed")
            for (path,) in db.execute("SELECT article_text_path FROM captures WHERE status = 'extracted'"):
                if not (root / path).is_file():
                    problems.append(f"catalog row without its file: {path}")
    return problems


@dataclass
class TrialReport:
    kind: str
    trials: int
    killed: int
    problems: list[str]
    final: Check

    def checks(self) -> list[Check]:
        must = "no partial file, catalog sound, no process left" + (
            ", closed WARCs valid" if self.kind == "crawl" else ""
        )
        return [
            Check(
                f"{self.kind}: SIGKILL at random points",
                must,
                f"{self.trials} trials ({self.killed} killed mid-run, the rest had finished); "
                + ("no problem" if not self.problems else "; ".join(self.problems[:5])),
                not self.problems,
            ),
            self.final,
        ]


def crawl_kill_trials(workdir: Path, trials: int, seed: int) -> TrialReport:
    """Crawl a site that grows by 40 articles per trial, SIGKILL each crawl at a random moment after it began
    writing, check what is on disk, and finally crawl to completion: every article archived exactly once."""
    rng = random.Random(seed)
    site, archive = workdir / "site", workdir / "archive"
    warc_dir = archive / "bulk" / "warc"
    checked: set[Path] = set()
    problems: list[str] = []
    killed = 0
    write_bulk_site(site, 40)
    with LocalWeb(site, latency=0.005) as web:
        for trial in range(trials):
            write_bulk_site(site, 40 * (trial + 1))
            command = scrapy_command("bulk", archive, web.proxy_url, KILL_SETTINGS)
            stopped, orphans = _kill_after(
                command, lambda: any(warc_dir.glob("*.open")), rng.uniform(0, 1.5), workdir / "crawl.log"
            )
            killed += stopped
            problems += [f"trial {trial}: left running after the kill: {orphan}" for orphan in orphans]
            closed = sorted(set(warc_dir.glob("*.warc.gz")) - checked)
            if closed and warcio_check(*closed).returncode != 0:
                problems.append(f"trial {trial}: a closed WARC fails warcio check")
            checked.update(closed)
            problems += [f"trial {trial}: {p}" for p in _no_partial_outputs(archive)]
        final = run_crawl("bulk", archive, web, KILL_SETTINGS)
        result = Archive.read(archive, "bulk")
        invariant = exactly_once(web, result)
    if final.returncode != 0 or list(warc_dir.glob("*.open")):
        problems.append(f"the final crawl: exit {final.returncode}, {len(list(warc_dir.glob('*.open')))} .open files")
    return TrialReport("crawl", trials, killed, problems, invariant)


def replay_kill_trials(workdir: Path, trials: int, seed: int, articles: int = 800) -> TrialReport:
    """Replay one WARC into one output folder, SIGKILLed at a random moment each time; then replay it to the end
    and compare with an uninterrupted replay: the same files, byte for byte.

    The kills land between 1 second after the start and three quarters of the uninterrupted replay's time, so on a
    fast machine or a slow one some land in start-up and most in the extraction."""
    rng = random.Random(seed)
    warc = write_warc(
        workdir / "archive" / "bulk" / "warc",
        "bulk",
        [(f"https://www.bulk.test/news/story-{n}", article_html(n).encode()) for n in range(articles)],
    )
    reference, output = workdir / "reference", workdir / "output"
    # the replays' own temporary folder: what a killed one leaves there is its own, not that of another process
    # (tests run side by side, say) writing the system's temporary folder at the same time
    temporary = workdir / "tmp"
    temporary.mkdir()
    replay = [
        sys.executable,
        "-m",
        "scrapy",
        "replay",
        str(warc),
        "--workers",
        "2",
        "-s",
        "SPIDER_MODULES=tests.outlets",
    ]
    started = time.monotonic()
    subprocess.run([*replay, "-o", str(reference)], cwd=REPO, env=_env(temporary), capture_output=True, check=True)
    latest_kill = max(2.0, 0.75 * (time.monotonic() - started))
    problems: list[str] = []
    killed = 0
    before = _replay_temporaries(temporary)
    for trial in range(trials):
        # from the start of the process: some kills land in start-up, most in the extraction
        stopped, orphans = _kill_after(
            [*replay, "-o", str(output)], lambda: True, rng.uniform(1.0, latest_kill), workdir / "replay.log", temporary
        )
        killed += stopped
        problems += [f"trial {trial}: left running after the kill: {orphan}" for orphan in orphans]
        problems += [f"trial {trial}: {p}" for p in _no_partial_outputs(output)]
    problems += [f"a killed replay left {path} behind" for path in sorted(_replay_temporaries(temporary) - before)]
    done = subprocess.run([*replay, "-o", str(output)], cwd=REPO, env=_env(temporary), capture_output=True, text=True)
    ours, theirs = _tree(output / "bulk"), _tree(reference / "bulk")
    rows, expected = _catalog_rows(output), _catalog_rows(reference)
    same = done.returncode == 0 and ours == theirs and rows == expected
    final = Check(
        "replay: killed, then run to the end",
        "the same files and catalog rows as an uninterrupted replay",
        f"exit {done.returncode}; {len(ours)} files, {len(theirs)} in the reference, "
        f"{sum(ours.get(k) != v for k, v in theirs.items())} differ; {len(rows)} catalog rows, "
        f"{len(expected)} in the reference, {len(set(expected) - set(rows))} missing or different",
        same,
    )
    return TrialReport("replay", trials, killed, problems, final)


def _replay_temporaries(folder: Path) -> set[Path]:
    """Temporary files and folders of replays (their indexes) in their temporary folder."""
    return {path for pattern in ("replay-index-*", "etilqs_*") for path in folder.glob(pattern)}


def _catalog_rows(root: Path) -> list[tuple]:
    """The captures rows of a replay's catalog, but for when each was written."""
    with sqlite3.connect(root / "catalog.sqlite") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM captures ORDER BY record_id").fetchall()
    return [tuple(row[key] for key in row.keys() if key != "extracted_at") for row in rows]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


# --- the report --------------------------------------------------------------------------------------


def print_report(title: str, checks: list[Check]) -> None:
    width = max(len(c.name) for c in checks)
    print(f"\n{title}\n{'=' * len(title)}")
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name:<{width}}  must: {check.expected}\n{'':<{width + 6}}  did:  {check.observed}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Fault injection and crash-safety report (make reliability)")
    parser.add_argument("--trials", type=int, default=25, help="SIGKILL trials for crawl and for replay each")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        work = Path(tmp)
        print("Crawling the fault site ...", flush=True)
        faults = fault_checks(run_fault_crawl(work / "faults"))
        print_report("Faults: what the server did, what the service did", faults)
        print(f"\nSIGKILL trials: {args.trials} crawls, {args.trials} replays (seed {args.seed}) ...", flush=True)
        crawl = crawl_kill_trials(work / "crawl", args.trials, args.seed)
        replay = replay_kill_trials(work / "replay", args.trials, args.seed)
        trials = crawl.checks() + replay.checks()
        print_report("Crash safety", trials)
    failed = [c for c in faults + trials if not c.ok]
    print(f"\n{len(faults) + len(trials) - len(failed)} of {len(faults) + len(trials)} checks hold.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
