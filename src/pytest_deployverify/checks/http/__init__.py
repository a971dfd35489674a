"""Checks of a service over HTTP(S): smoke, authentication, tenant isolation, headers, TLS, latency.

Plain functions over an ``httpx.Client`` (or plain data) that return findings or small result
dataclasses; nothing here imports pytest. Check ids live in ``catalog``.
"""
