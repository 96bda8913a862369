"""docker-compose.yml: valid Compose, and everything it runs exists in the project (Docker cannot run here).

The file is validated against the Compose Specification's JSON schema as vendored by check-jsonschema
(``--builtin-schema vendor.compose-spec``, the schema of the compose-spec project). Then every command
of the file is checked against the project: ``scrapy`` subcommands and their options, the pywb server
the Dockerfile installs (run for real with the file's own pywb configuration), the health checks.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO, free_port, run_crawl, wait_for_port
from tests.localweb import LocalWeb

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PYWB_BIN = REPO / ".venv-pywb" / "bin"


def compose() -> dict[str, Any]:
    return YAML(typ="safe").load(COMPOSE.read_text("utf-8"))


def validate(path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def scrapy(*args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)}, **kwargs)


def health_test(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD", test  # exec form: no shell needed in the image
    return test[1:]


def dockerfile_cmd() -> list[str]:
    [line] = [line for line in DOCKERFILE.read_text("utf-8").splitlines() if line.startswith("CMD ")]
    return json.loads(line[4:])



def test_the_compose_file_is_valid_against_the_compose_specification(tmp_path: Path) -> None:
    done = validate(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr
    # the validator really validates: a misspelt key fails
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text("utf-8").replace("    healthcheck:", "    healthchek:", 1), "utf-8")
    failed = validate(broken)
    assert failed.returncode == 1 and "healthchek" in failed.stdout + failed.stderr


PROJECT_SERVICES = {"scheduler", "worker", "pywb", "reader"}  # the image of ./Dockerfile, sharing ./archive
BACKENDS = {"redis", "postgres"}
REPLAY = {"dask-scheduler", "replay-worker"}  # profile "replay"


def test_the_services_share_the_archive_with_health_checks_and_restart_policies() -> None:
    services = compose()["services"]
    assert set(services) == PROJECT_SERVICES | BACKENDS | REPLAY
    for name in PROJECT_SERVICES | BACKENDS:
        service = services[name]
        assert service["restart"] in ("always", "unless-stopped"), name
        assert service["healthcheck"]["test"] and service["healthcheck"]["retries"] >= 1, name
    for name in PROJECT_SERVICES | REPLAY:
        assert services[name]["build"] == "." and (REPO / "Dockerfile").is_file()
    for name in PROJECT_SERVICES | {"replay-worker"}:
        assert any(volume.split(":")[:2] == ["./archive", "/archive"] for volume in services[name]["volumes"]), name
    assert services["scheduler"]["environment"]["NEWSARCHIVE_ROOT"] == "/archive"
    assert "NEWSARCHIVE_ROOT" in (REPO / "settings.py").read_text("utf-8")  # ...which settings.py reads
    assert "/archive:ro" in " ".join(services["pywb"]["volumes"])  # pywb only reads
    assert "/archive:ro" in " ".join(services["reader"]["volumes"])  # and so does the reading room
    # SIGTERM first, and time for the crawls to close their WARCs (CRAWL_KILL_GRACE is 60 s) before SIGKILL
    for name in ("scheduler", "worker"):
        assert services[name]["stop_signal"] == "SIGTERM"
        assert int(services[name]["stop_grace_period"].rstrip("s")) > 60


def test_scheduler_and_workers_share_the_frontier_and_the_catalog_and_workers_scale() -> None:
    services = compose()["services"]
    scheduler, worker = services["scheduler"], services["worker"]
    assert worker["environment"] == scheduler["environment"]
    environment = scheduler["environment"]
    # the variables settings.py reads, pointing at the backend services of the file
    assert environment["NEWSARCHIVE_REDIS_URL"].startswith("redis://redis:6379/")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    settings = (REPO / "settings.py").read_text("utf-8")
    assert "NEWSARCHIVE_REDIS_URL" in settings and '"DATABASE_URL"' in settings
    for name in ("scheduler", "worker"):
        assert {backend: spec["condition"] for backend, spec in services[name]["depends_on"].items()} == {
            "redis": "service_healthy", "postgres": "service_healthy"}
    # `--scale worker=N` needs a worker with no fixed name or host port
    assert not {"container_name", "ports"} & set(worker)
    assert worker["command"] == ["scrapy", "worker"]
    postgres = services["postgres"]["environment"]
    assert f"{postgres['POSTGRES_USER']}:" in environment["DATABASE_URL"]
    assert environment["DATABASE_URL"].endswith(f"/{postgres['POSTGRES_DB']}")
    replay = services["replay-worker"]["command"]
    assert replay[:2] == ["dask", "worker"] and replay[2].startswith("tcp://dask-scheduler:")
    assert services["dask-scheduler"]["command"][:2] == ["dask", "scheduler"]
    assert all(services[name]["profiles"] == ["replay"] for name in REPLAY)


def test_every_scrapy_command_the_file_runs_exists() -> None:
    services = compose()["services"]
    commands = [services["scheduler"]["command"], health_test(services["scheduler"]), dockerfile_cmd(),
                services["worker"]["command"], health_test(services["worker"]), services["reader"]["command"],
                health_test(services["reader"])]
    assert services["scheduler"]["command"] == dockerfile_cmd()
    for command in commands:
        assert command[0] == "scrapy", command
        assert (REPO / "crawler" / "commands" / f"{command[1]}.py").is_file(), command
        usage = scrapy(command[1], "--help")
        assert usage.returncode == 0, usage.stderr
        for option in (arg for arg in command[2:] if arg.startswith("-")):
            assert re.search(rf"(^|\s){re.escape(option)}\b", usage.stdout), (option, usage.stdout)
    listed = scrapy("-h").stdout  # and scrapy lists them among the project's commands
    for command in ("schedule", "worker", "enqueue", "serve"):
        assert re.search(rf"^\s+{command}\s", listed, re.M), listed


def test_the_scheduler_health_check_tells_a_live_service_from_a_dead_one(tmp_path: Path) -> None:
    command = health_test(compose()["services"]["scheduler"])[1:]  # scrapy schedule --health
    settings = ["-s", f"ARCHIVE_ROOT={tmp_path}"]
    dead = scrapy(*command, *settings)
    assert dead.returncode == 1 and dead.stdout.startswith("unhealthy"), dead.stdout + dead.stderr
    (tmp_path / "schedule.heartbeat").write_text(json.dumps({"pid": 1, "time": time.time(), "running": []}))
    alive = scrapy(*command, *settings)
    assert alive.returncode == 0 and alive.stdout.startswith("healthy"), alive.stdout + alive.stderr
    (tmp_path / "schedule.heartbeat").write_text(json.dumps({"pid": 1, "time": time.time() - 3600}))
    assert scrapy(*command, *settings).returncode == 1


def test_the_reading_room_service_needs_its_token_and_its_health_check_passes(tmp_path: Path) -> None:
    """The reader service's own command, run as the file runs it: refused without the token the file requires,
    served with it (bound beyond loopback), and its health check tells the live server from a dead one."""
    reader = compose()["services"]["reader"]
    environment = reader["environment"]
    assert environment["NEWSARCHIVE_READER_TOKEN"].startswith("${NEWSARCHIVE_READER_TOKEN:?")  # compose refuses
    assert environment["DATABASE_URL"] == compose()["services"]["scheduler"]["environment"]["DATABASE_URL"]
    assert environment["NEWSARCHIVE_PYWB_URL"].endswith(":-http://127.0.0.1:8080}")  # the pywb service's port
    assert reader["ports"] == ["127.0.0.1:8000:8000"] and reader["depends_on"]["postgres"]["condition"] == (
        "service_healthy")
    settings = (REPO / "settings.py").read_text("utf-8")
    assert "NEWSARCHIVE_READER_TOKEN" in settings and "NEWSARCHIVE_PYWB_URL" in settings
    command, check = reader["command"], health_test(reader)
    assert command[:2] == ["scrapy", "serve"] and command[command.index("--host") + 1] == "0.0.0.0"
    port = free_port()
    command[command.index("--port") + 1] = check[check.index("--port") + 1] = str(port)
    run = [sys.executable, "-m", *command, "-s", f"ARCHIVE_ROOT={tmp_path}"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "NEWSARCHIVE_READER_TOKEN": ""}
    refused = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode != 0 and "set a token" in refused.stderr + refused.stdout
    env["NEWSARCHIVE_READER_TOKEN"] = "a-token-for-this-test"
    health = [sys.executable, "-m", *check, "-s", f"ARCHIVE_ROOT={tmp_path}"]
    dead = subprocess.run(health, cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert dead.returncode == 1 and dead.stdout.startswith("unhealthy"), dead.stdout + dead.stderr
    server = subprocess.Popen(run, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60)
        alive = subprocess.run(health, cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
        assert alive.returncode == 0 and alive.stdout.startswith("healthy"), alive.stdout + alive.stderr
    finally:
        server.terminate()
        server.wait(15)


def test_the_image_installs_the_pywb_the_file_runs() -> None:
    pywb = compose()["services"]["pywb"]
    program = pywb["command"][0]
    venv = program.removesuffix("/bin/wayback")
    assert venv != program and pywb["command"][0].startswith("/app/")
    docker = DOCKERFILE.read_text("utf-8")
    assert re.search(r"^WORKDIR /app$", docker, re.M)
    installs = re.search(rf"python -m venv {re.escape(venv)}\s*\\?\s*&& {re.escape(venv)}/bin/pip install "
                         r"--no-cache-dir (pywb==[\d.]+)", docker)
    assert installs, docker
    # the same pywb as `make pywb` (the one the test suite runs)
    assert installs[1] in (REPO / "Makefile").read_text("utf-8")
    # every file the Dockerfile copies exists
    for line in docker.splitlines():
        if line.startswith("COPY "):
            for source in shlex.split(line)[1:-1]:
                assert (REPO / source).exists(), line
    # the config pywb reads is where --directory points
    [config] = pywb["configs"]
    directory = pywb["command"][pywb["command"].index("--directory") + 1]
    assert config["target"] == f"{directory}/config.yaml"
    assert config["source"] in compose()["configs"]
    code = health_test(pywb)
    assert code[:2] == ["python", "-c"]
    compile(code[2], "healthcheck", "exec")


def test_pywb_serves_the_archive_with_the_compose_configuration(tmp_path: Path) -> None:
    if not (PYWB_BIN / "wayback").exists():
        pytest.skip("pywb is not installed: run `make pywb` (make test does)")
    spec = compose()
    pywb = spec["services"]["pywb"]
    [mount] = [v for v in pywb["volumes"] if ":/archive" in v]
    in_container = mount.split(":")[1]
    archive, directory = tmp_path / "archive", tmp_path / "pywb"
    directory.mkdir()
    content = spec["configs"][pywb["configs"][0]["source"]]["content"]
    assert f"collections_root: {in_container}" in content
    (directory / "config.yaml").write_text(content.replace(in_container, str(archive)), "utf-8")
    port = free_port()
    command = [str(PYWB_BIN / "wayback")] + pywb["command"][1:]
    command[command.index("--port") + 1] = str(port)
    command[command.index("--bind") + 1] = "127.0.0.1"
    command[command.index("--directory") + 1] = str(directory)

    with LocalWeb() as web:
        assert run_crawl("ndtv", archive, web).returncode == 0
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            # an outlet archived after pywb started is a collection too
            assert run_crawl("axios", archive, web).returncode == 0
            for outlet, domain in (("ndtv", "ndtv.com"), ("axios", "axios.com")):
                url = f"http://127.0.0.1:{port}/{outlet}/cdx?url={domain}&matchType=domain&output=json"
                with urllib.request.urlopen(url, timeout=20) as answer:
                    lines = answer.read().decode().splitlines()
                assert any('"status": "200"' in line for line in lines), (outlet, lines[:5])
            # the file's health check passes against it
            check = health_test(pywb)[2].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            assert subprocess.run([sys.executable, "-c", check], timeout=30).returncode == 0
        finally:
            server.terminate()
            server.wait(10)
