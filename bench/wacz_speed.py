"""Benchmark: `scrapy wacz` packaging an archive of at least 500 MB of WARCs — MB/s of WARC input and peak RSS,
against plain copying and py-wacz's own command line on the same WARCs in the same run.

1. Builds an archive as a crawl leaves it: ``--files`` WARC files (default 4) in the crawler's own form under
   ``<root>/bulk/warc/`` (tests.localweb.generate.write_warc: ``--articles`` generated article pages, default
   2,000, with their request and metadata records, then 1 MB incompressible ``image/jpeg`` responses,
   ``--megabytes`` of them in all, default 520), and its catalog by ``scrapy replay`` of those WARCs.
2. Runs ``--rounds`` rounds (default 3) of, one after another:
   (a) plain copying: the WARC bytes copied into one file (``shutil.copyfileobj``, then fsync), in this process;
   (b) py-wacz's own command line, ``python -m wacz create -o X.wacz WARC...`` (no page list, no checks);
   (c) the damage check alone: ``pipelines.warc_reader.read_archive`` over the WARCs, in this process (what
       ``scrapy wacz`` does before py-wacz writes);
   (d) ``scrapy wacz -o X.wacz -q -s ARCHIVE_ROOT=<root>``, as a process of its own (start-up, catalog query
       and page texts included; its own "in N s" count, package() alone, is printed too);
   (b) and (d) take turns going first. Prints each round's figures, then the medians in MB/s of WARC input
   (MB = 2**20 bytes), the peak RSS of (b) and (d) (each process's own high-water mark, VmHWM, polled over its
   process tree: not RUSAGE_CHILDREN, which on Linux starts a child at its parent's RSS at fork), the ratios of
   (d) to (a) and (b), the share of (c) in (d), and the package's size against the WARC bytes. Timings on a
   shared 2-core machine are noisy: nothing is asserted.

    .venv/bin/python bench/wacz_speed.py [--megabytes 520] [--files 4] [--articles 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.peak_memory import wait_measuring  # noqa: E402
from pipelines.warc_reader import Damage, read_archive  # noqa: E402
from tests.localweb.generate import BULK_HOST, article_html, write_warc  # noqa: E402

MB = 2**20


def build_archive(root: Path, megabytes: int, files: int, articles: int) -> list[Path]:
    """``files`` WARCs of ``articles`` pages in all and ``megabytes`` of filler; then the catalog, by replay."""
    folder = root / "bulk" / "warc"
    warcs: list[Path] = []
    for number in range(files):
        pages = [(f"https://{BULK_HOST}/news/story-{n}", article_html(n).encode())
                 for n in range(number, articles, files)]
        warcs.append(write_warc(folder, "bulk", pages, filler_bytes=megabytes * MB // files))
        print(f"  {warcs[-1].name}: {len(pages):,} articles, {warcs[-1].stat().st_size / MB:,.0f} MB", flush=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "scrapy", "replay", str(folder), "-o", str(root)],
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"scrapy replay failed ({done.returncode}): {done.stderr[-2000:]}")
    print(f"  catalog: scrapy replay of the WARCs in {time.perf_counter() - started:.1f}s", flush=True)
    return warcs


def measured(command: list[str], log: Path) -> tuple[float, int, str]:
    """Run ``command`` (stdout and stderr to ``log``): its wall seconds, peak RSS (MB, largest process), output."""
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(REPO)})
        peak = wait_measuring(process)
        seconds = time.perf_counter() - started
    output = log.read_text("utf-8", "replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed ({process.returncode}): {output[-2000:]}")
    return seconds, peak, output


def copy_all(warcs: list[Path], target: Path) -> float:
    started = time.perf_counter()
    with open(target, "wb") as out:
        for warc in warcs:
            with open(warc, "rb") as source:
                shutil.copyfileobj(source, out, MB)
        out.flush()
        os.fsync(out.fileno())  # as the packages are: on disk when the rename makes them visible
    return time.perf_counter() - started


def check_all(warcs: list[Path]) -> tuple[float, int, int]:
    started = time.perf_counter()
    captures = damages = 0
    for warc in warcs:
        for item in read_archive(warc):
            damages += isinstance(item, Damage)
            captures += not isinstance(item, Damage)
    return time.perf_counter() - started, captures, damages


def copy_round(warcs: list[Path], work: Path) -> float:
    seconds = copy_all(warcs, work / "copy.warc.gz")
    (work / "copy.warc.gz").unlink()
    return seconds


def cli_round(warcs: list[Path], work: Path) -> tuple[float, int, int]:
    """py-wacz's command line: seconds, peak RSS (MB), package bytes."""
    output = work / "py-wacz.wacz"
    seconds, peak, _ = measured([sys.executable, "-m", "wacz", "create", "-o", str(output), *map(str, warcs)],
                                work / "py-wacz.log")
    size = output.stat().st_size
    output.unlink()
    return seconds, peak, size


def ours_round(root: Path, work: Path) -> tuple[float, int, float, int, int, str]:
    """``scrapy wacz``: seconds, peak RSS (MB), its own count of seconds, package bytes, page list bytes, summary."""
    output = work / "share" / "archive.wacz"
    output.parent.mkdir(exist_ok=True)
    seconds, peak, said = measured([sys.executable, "-m", "scrapy", "wacz", "-o", str(output), "-q",
                                    "-s", f"ARCHIVE_ROOT={root}"], work / "scrapy-wacz.log")
    own = re.search(r"in ([\d,.]+) s \(", said)
    with zipfile.ZipFile(output) as wacz:
        pages = wacz.getinfo("pages/pages.jsonl").file_size
    size = output.stat().st_size
    output.unlink()
    summary = next((line for line in said.splitlines() if line.startswith("Wrote ")), said.strip()[-300:])
    return seconds, peak, float(own[1].replace(",", "")) if own else float("nan"), size, pages, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=520, help="WARC bytes of the archive, in MB (2**20)")
    parser.add_argument("--files", type=int, default=4, help="WARC files they are spread over")
    parser.add_argument("--articles", type=int, default=2000, help="article pages among them")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a)-(d); medians are compared")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wacz-") as tmp:
        work = Path(tmp)
        root = work / "archive"
        print(f"building an archive of {args.megabytes:,} MB in {args.files} WARC files; {os.cpu_count()} cores",
              flush=True)
        warcs = build_archive(root, args.megabytes, args.files, args.articles)
        size = sum(warc.stat().st_size for warc in warcs)
        megabytes = size / MB
        print(f"{megabytes:,.1f} MB of WARCs ({size:,} bytes), {args.articles:,} articles", flush=True)

        copies, clis, checks, ours, own_counts, peaks_cli, peaks = [], [], [], [], [], [], []
        for number in range(args.rounds):
            copies.append(copy_round(warcs, work))
            first_cli = number % 2 == 0  # (b) and (d) take turns going first
            if first_cli:
                seconds, peak_cli, cli_size = cli_round(warcs, work)
            check, captures, damages = check_all(warcs)
            checks.append(check)
            mine, peak, own, package_size, pages, summary = ours_round(root, work)
            if not first_cli:
                seconds, peak_cli, cli_size = cli_round(warcs, work)
            clis.append(seconds)
            ours.append(mine)
            own_counts.append(own)
            peaks_cli.append(peak_cli)
            peaks.append(peak)
            print(f"round {number + 1}: (a) copy {megabytes / copies[-1]:,.1f} MB/s, (b) py-wacz "
                  f"{megabytes / seconds:,.1f} MB/s (peak RSS {peak_cli} MB), (c) damage check "
                  f"{megabytes / check:,.1f} MB/s, (d) scrapy wacz {megabytes / mine:,.1f} MB/s "
                  f"({megabytes / own:,.1f} MB/s by its own count; peak RSS {peak} MB)", flush=True)
        copy_rate, cli_rate = megabytes / statistics.median(copies), megabytes / statistics.median(clis)
        check_rate, rate = megabytes / statistics.median(checks), megabytes / statistics.median(ours)
        packaging = megabytes / statistics.median(own_counts)
        print(f"\nmedians of {args.rounds} round(s), MB/s of WARC input:")
        print(f"(a) plain copy into one file (fsync'd):  {copy_rate:8,.1f}")
        print(f"(b) python -m wacz create:               {cli_rate:8,.1f}   peak RSS {max(peaks_cli)} MB")
        print(f"(c) damage check (read_archive):         {check_rate:8,.1f}   ({captures:,} captures, {damages} "
              "damaged stretches)")
        print(f"(d) scrapy wacz, whole process:          {rate:8,.1f}   peak RSS {max(peaks)} MB")
        print(f"    its own count (package() alone):     {packaging:8,.1f}   (start-up, catalog query and page "
              f"texts: {statistics.median(ours) - statistics.median(own_counts):.1f}s)")
        print(f"    {summary}")
        print(f"ratios, scrapy wacz (whole process) against: plain copy {rate / copy_rate:.2f}, py-wacz's command "
              f"line {rate / cli_rate:.2f}; package() alone: {packaging / copy_rate:.2f} and "
              f"{packaging / cli_rate:.2f}; the damage check is about {rate / check_rate:.0%} of its time")
        print(f"package: {package_size / MB:,.1f} MB = {package_size / size:.4f} x the WARC bytes "
              f"(+{(package_size - size) / 1024:,.0f} KB, of which the page list {pages / 1024:,.0f} KB); "
              f"py-wacz's own: {cli_size / size:.4f} x")


if __name__ == "__main__":
    main()
