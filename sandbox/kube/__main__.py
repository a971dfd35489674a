"""Run the emulator as its own process: `python -m sandbox.kube --port-file F --kubeconfig K`.

Writes the kubeconfig (CA embedded), then the port file and pid file (each atomically, so a
script polling for the port file finds the kubeconfig already there), prints one JSON line with
url/pid/kubeconfig, and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from sandbox.kube.emulator import DEFAULT_FIXTURES_DIR, KubeEmulator
from sandbox.kube.generate import make_pods


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.kube", description="Serve the Kubernetes API emulator."
    )
    parser.add_argument("--kubeconfig", type=Path, required=True, help="kubeconfig to write")
    parser.add_argument("--port-file", type=Path, help="file to receive the chosen port")
    parser.add_argument("--pid-file", type=Path, help="file to receive this process id")
    parser.add_argument("--context", default="kube-emulator", help="kubeconfig context name")
    parser.add_argument("--namespace", default="api-gateway", help="context's namespace")
    parser.add_argument("--token", help="bearer token to accept (default: random)")
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=DEFAULT_FIXTURES_DIR,
        help="folder of YAML objects to serve (default: the api-gateway fixtures)",
    )
    parser.add_argument("--no-fixtures", action="store_true", help="start with an empty store")
    parser.add_argument(
        "--extra-pods",
        type=int,
        default=0,
        help="add this many generated gateway pods (they match the Deployment selector)",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    fixtures = None if args.no_fixtures else args.fixtures
    emulator = KubeEmulator(fixtures_dir=fixtures, token=args.token, port=args.port)
    if args.extra_pods:
        emulator.store.put_many(make_pods(args.extra_pods))
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with emulator:
        emulator.write_kubeconfig(
            args.kubeconfig, args.context, namespace=args.namespace, embed_ca=True
        )
        if args.pid_file:
            _write_atomically(args.pid_file, f"{os.getpid()}\n")
        if args.port_file:
            _write_atomically(args.port_file, f"{emulator.port}\n")
        print(
            json.dumps(
                {"url": emulator.url, "pid": os.getpid(), "kubeconfig": str(args.kubeconfig)}
            ),
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    for path in (args.port_file, args.pid_file):
        if path is not None:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
