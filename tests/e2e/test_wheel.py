"""From the built wheel to a sign-off, as a new user would, using nothing from the repository.

The wheel is built (``uv build``) and installed with ``[all]`` into a new virtualenv; in an EMPTY
temporary folder, with a clean environment (no PYTHONPATH, the venv's commands only), the user:

1. ``pip install 'pytest-deployverify[all]'``   (here: the wheel just built)
2. ``deployverify init e2e --kubeconfig ... --kube-context sandbox``   (against the sandbox's API)
3. ``pytest --env e2e --signoff signoff.md ... --signoff-exit verdict``: CONDITIONAL, the
   shipped manual items pending; attested in the profile, the same run gives GO.

(``deployverify profile check e2e`` between 2 and 3 is optional and checked here too): three
commands from install to a first sign-off. The sandbox (the repository's test support, the
target, not the tool) is started in this process so a defect can be switched on while it runs.

What init cannot know is added as a user would, each said where it is done: the sandbox's
non-Kubernetes components (Redis, PostgreSQL: their addresses and secrets are not in the
cluster's objects), and the DNS pin of the public host (the sandbox publishes no DNS record).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENV = "e2e"
GO, CONDITIONAL, NO_GO = 0, 10, 11
# The tables init cannot guess: the sandbox's Redis and PostgreSQL run outside its (emulated)
# cluster, and their secrets are not in the cluster's objects. A user appends them the same way.
APPENDED = """
# Added by hand (init cannot know them): the components outside the cluster.
[redis]
url = "${SANDBOX_REDIS_URL}"
password = "${SANDBOX_REDIS_PASSWORD}"
ca_file = "${SANDBOX_CA_FILE}"
expect_tls = true

[postgres]
dsn = "${SANDBOX_PG_DSN}"
password = "${SANDBOX_PG_PASSWORD}"
"""


def run(
    argv: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"{result.args}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel built from this checkout, installed with ``[all]``."""
    dist = tmp_path_factory.mktemp("dist")
    root = tmp_path_factory.mktemp("venv") / "venv"
    # The build and the install use the machine's settings (index, proxy, certificates, caches),
    # never this checkout's Python path.
    here = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    uv = shutil.which("uv")
    if uv:
        ok(run([uv, "build", "--wheel", "--out-dir", dist, REPO], cwd=dist, env=here))
        wheel = next(dist.glob("*.whl"))
        ok(run([uv, "venv", "--python", sys.executable, root], cwd=dist, env=here))
        python = root / "bin" / "python"
        ok(run([uv, "pip", "install", "--python", python, f"{wheel}[all]"], cwd=dist, env=here))
    else:
        ok(
            run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, REPO],
                cwd=dist,
                env=here,
            )
        )
        wheel = next(dist.glob("*.whl"))
        ok(run([sys.executable, "-m", "venv", root], cwd=dist, env=here))
        python = root / "bin" / "python"
        ok(run([python, "-m", "pip", "install", "--quiet", f"{wheel}[all]"], cwd=dist, env=here))
    return root / "bin"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    """The repository's sandbox (test support: the target), started in this process."""
    pytest.importorskip("trustme")
    from sandbox.stack import Stack

    state = Path(tempfile.mkdtemp(prefix="dv-e2e-"))
    stack = Stack.start(state, log=lambda line: None)
    try:
        yield stack
    finally:
        stack.stop(log=lambda line: None)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def user(tmp_path: Path, venv_bin: Path, sandbox: Any) -> tuple[Path, dict[str, str]]:
    """An empty folder and a clean environment: the venv's commands, the sandbox's exported
    variables (what `. env.sh` gives a user), nothing of the repository."""
    work = tmp_path / "project"
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **sandbox.env,
    }
    return work, env


def signoff(work: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((work / "signoff.json").read_text())
    return loaded


def test_from_the_wheel_to_a_signoff_go_then_no_go_with_a_defect(
    user: tuple[Path, dict[str, str]], venv_bin: Path, sandbox: Any
) -> None:
    work, env = user
    assert list(work.iterdir()) == []
    # Nothing of the repository is imported: the package is the installed wheel's.
    where = ok(
        run(
            ["python", "-c", "import pytest_deployverify as p; print(p.__file__)"],
            cwd=work,
            env=env,
        )
    )
    assert where.startswith(str(venv_bin.parent)), where

    # 2. init against the sandbox's Kubernetes API.
    kubeconfig = env["SANDBOX_KUBECONFIG"]
    out = ok(
        run(
            ["deployverify", "init", ENV, "--kubeconfig", kubeconfig, "--kube-context", "sandbox"],
            cwd=work,
            env=env,
        )
    )
    assert "wrote verify/environments/e2e.toml" in out
    profile = work / "verify" / "environments" / f"{ENV}.toml"
    text = profile.read_text()
    assert 'workloads = [\n  "api-gateway",' in text
    # The sandbox publishes no DNS record for its public host: switch on the pin init offers
    # (commented out) for exactly that case.
    assert "# resolve = " in text
    text = text.replace("# resolve = ", "resolve = ", 1) + APPENDED
    profile.write_text(text)
    ok(run(["deployverify", "profile", "check", ENV], cwd=work, env=env))

    # 3. the checklist, with a sign-off. On the healthy sandbox every automated check passes or
    # does not apply, and the verdict is CONDITIONAL: the shipped manual items (on-call, DR
    # drill, pen test...) are pending until a person attests them.
    argv = [
        "pytest", "--env", ENV, "--signoff", "signoff.md", "--signoff", "signoff.json",
        "--signoff-exit", "verdict", "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    first = run(argv, cwd=work, env=env)
    document = signoff(work)
    assert first.returncode == CONDITIONAL, first.stdout[-4000:] + first.stderr[-2000:]
    assert document["verdict"]["decision"] == "CONDITIONAL"
    assert {c["outcome"] for c in document["checks"]} <= {"passed", "not-applicable"}
    pending = {m["id"] for m in document["manual"] if m["status"] == "pending"}
    listed = json.loads(
        ok(run(["deployverify", "checklist", "--format", "json"], cwd=work, env=env))
    )
    assert pending == {m["id"] for m in listed["manual"]}
    assert all("manual" in reason for reason in document["verdict"]["reasons"])

    # The team attests them in the profile, bound to the release; the same run is now a GO.
    profile.write_text(
        profile.read_text()
        + "".join(
            f'\n[[manual]]\nid = "{item}"\nattested_by = "E2E Release Manager"\n'
            f"attested_at = {dt.date.today().isoformat()}\n"
            for item in sorted(pending)
        )
    )
    healthy = run(argv, cwd=work, env=env)
    document = signoff(work)
    assert healthy.returncode == GO, healthy.stdout[-4000:] + healthy.stderr[-2000:]
    assert document["verdict"]["decision"] == "GO"
    assert {m["status"] for m in document["manual"]} == {"attested"}
    passed = {c["check_id"] for c in document["checks"] if c["outcome"] == "passed"}
    # What init wrote is verified (the workload by name), and so are the appended components.
    assert {"K8S-SECURITY-CONTEXT[api-gateway]", "K8S-ROLLOUT[api-gateway]"} <= passed
    assert {"SEC-REDIS-AUTH", "INFRA-PG-VERSION"} <= passed
    assert (work / "signoff.md").is_file()
    assert sandbox.env["SANDBOX_REDIS_PASSWORD"] not in (work / "signoff.md").read_text()

    # A defect switched on in the running sandbox: the Deployment's container made privileged.
    store = sandbox.handles["kubernetes"].store
    original = store.get("Deployment", "api-gateway", "api-gateway")
    broken = copy.deepcopy(original)
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    store.put(broken)
    try:
        defect = run(argv, cwd=work, env=env)
    finally:
        store.put(original)
    document = signoff(work)
    assert defect.returncode == NO_GO, defect.stdout[-4000:] + defect.stderr[-2000:]
    assert document["verdict"]["decision"] == "NO-GO"
    failed = {c["check_id"] for c in document["checks"] if c["outcome"] == "failed"}
    assert failed == {"K8S-SECURITY-CONTEXT[api-gateway]"}
    assert "privileged: true" in " ".join(document["verdict"]["reasons"])
