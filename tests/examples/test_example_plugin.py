"""The out-of-tree example plugin (examples/deployverify-example-plugin): one module and one entry
point line, no change to pytest-deployverify. Installed by the tests, it brings its profile table,
its declared check and its checklist item; a run with a profile that configures it shows the check
in the sign-off (Markdown and JSON), passing against a healthy status endpoint and failing against
a degraded one."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHECK = "SMOKE-STATUS-ENDPOINT"
TITLE = "Status endpoint reports the service and its dependencies healthy"
RUN = (
    "--env",
    "demo",
    "--env-dir",
    "envs",
    "--checklist",
    "all",
    "-k",
    "test_status_endpoint",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-rfEs",
    "--signoff",
    "out/signoff.md",
    "--signoff",
    "out/signoff.json",
)


class StatusServer:
    """A service's JSON status endpoint on loopback; the test sets what it answers."""

    def __init__(self) -> None:
        self.code = 200
        self.document: dict[str, Any] = {"status": "ok", "checks": {}}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(owner.document).encode()
                self.send_response(owner.code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/status"

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def status() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server


@pytest.fixture
def project(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    example_site: Path,
    status: StatusServer,
) -> pytest.Pytester:
    """A project whose runs see the installed example plugin, with a profile configuring it."""
    monkeypatch.setenv("PYTHONPATH", str(example_site))
    monkeypatch.setenv("COLUMNS", "250")
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "demo.toml").write_text(
        f'[status_endpoint]\nurl = "{status.url}"\nrequire = ["database", "cache"]\n'
    )
    return pytester


def signoff(project: pytest.Pytester) -> tuple[dict[str, Any], str]:
    document = json.loads((project.path / "out" / "signoff.json").read_text(encoding="utf-8"))
    [check] = [c for c in document["checks"] if c["check_id"] == CHECK]
    return check, (project.path / "out" / "signoff.md").read_text(encoding="utf-8")


def test_the_entry_point_alone_registers_the_component(example_site: Path) -> None:
    probe = (
        "from pytest_deployverify.components.catalog import entry_point_components\n"
        "import deployverify_example\n"
        "found = {c.name: c for c in entry_point_components()}\n"
        "c = found['status_endpoint']\n"
        "assert c is deployverify_example.component\n"
        "print(c.key, [s.id for s in c.checks], c.checklist)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(example_site), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"status_endpoint ['{CHECK}'] ('deployverify_example',)"


def test_healthy_endpoint_passes_and_shows_in_the_signoff(
    project: pytest.Pytester, status: StatusServer
) -> None:
    status.document = {"status": "ok", "checks": {"database": "ok", "cache": "pass"}}
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*components: status_endpoint*"])
    check, markdown = signoff(project)
    assert (check["outcome"], check["title"], check["severity"], check["section"]) == (
        "passed",
        TITLE,
        "high",
        "smoke",
    )
    assert check["nodeid"] == "deployverify/deployverify_example.py::test_status_endpoint"
    assert check["evidence"][0] == {
        "name": "status",
        "value": {"http": 200, "status": "ok", "checks": {"database": "ok", "cache": "pass"}},
        "expected": {"status": "ok", "healthy": ["database", "cache"]},
        "source": status.url,
        "ok": True,
    }
    assert CHECK in markdown
    assert TITLE in markdown


def test_degraded_endpoint_fails_naming_what_is_wrong(
    project: pytest.Pytester, status: StatusServer
) -> None:
    status.code = 503
    status.document = {"status": "degraded", "checks": {"database": "ok", "cache": "down"}}
    result = project.runpytest_subprocess(*RUN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines_random(
        [
            f"*[[]status-endpoint-healthy[]] status endpoint {status.url}: answered HTTP 503; "
            "expected 2xx*",
            "*reports status 'degraded'; expected one of*",
            "*reports cache: 'down'; expected healthy*",
        ]
    )
    check, markdown = signoff(project)
    assert check["outcome"] == "failed"
    assert "answered HTTP 503" in check["reason"]
    assert CHECK in markdown
    assert "NO-GO" in markdown


def test_without_the_plugin_installed_its_table_is_unknown(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, status: StatusServer
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    (pytester.path / "envs").mkdir()
    (pytester.path / "envs" / "demo.toml").write_text(f'[status_endpoint]\nurl = "{status.url}"\n')
    result = pytester.runpytest_subprocess(*RUN)
    assert result.ret != 0
    assert "status_endpoint" in result.stderr.str() + result.stdout.str()
