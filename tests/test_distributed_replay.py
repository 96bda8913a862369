"""Distributed replay: `scrapy replay --dask` on a real Dask cluster (scheduler and workers as processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from distributed import Client

from pipelines.replay import DASK_BATCH
from tests.archive_contents import catalog_tables, tree
from tests.conftest import REPO, free_port, wait_for_port
from tests.localweb.generate import BULK_HOST, article_html, write_warc
from tests.test_replay import run_replay

DASK = Path(sys.executable).with_name("dask")


def test_replay_on_a_dask_cluster_writes_what_the_local_pool_writes(tmp_path: Path) -> None:
    pages = [(f"https://{BULK_HOST}/news/story-{n}", article_html(n).encode()) for n in range(60)]
    warc = write_warc(tmp_path / "warc", "bulk", pages)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    options = ["--no-dashboard"]
    processes = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), *options],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for_port(port)
        processes += [
            subprocess.Popen([str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1", *options],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        distributed = run_replay(str(warc), "-o", str(tmp_path / "dask"), "--stats", "-", "--dask", address)
        assert distributed.returncode == 0, distributed.stderr[-3000:]
        with Client(address, timeout=60) as client:
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)
    assert len(executed) == 2 and all(count > 0 for count in executed.values()), executed
    assert sum(executed.values()) >= -(-len(pages) // DASK_BATCH)  # every batch of captures ran on the cluster
    local = run_replay(str(warc), "-o", str(tmp_path / "local"), "--stats", "-", "--workers", "2")
    assert local.returncode == 0, local.stderr[-3000:]
    assert json.loads(distributed.stdout)["extracted"] == json.loads(local.stdout)["extracted"] == len(pages)
    assert tree(tmp_path / "dask") == tree(tmp_path / "local") != {}
    assert catalog_tables(str(tmp_path / "dask" / "catalog.sqlite")) == catalog_tables(
        str(tmp_path / "local" / "catalog.sqlite"))
