"""Launchers for the real servers of the sandbox (Debian binaries, loopback, free ports).

Each ``start_*`` takes a private working folder for that server (created if missing; config,
data, log and pidfile go there), waits until the server is ready and returns a handle with
``.pid`` and ``.stop()``. If the server does not come up, it is stopped again and a
``sandbox.procs.ServerStartError`` names the server, its port and the tail of its log.
"""
