"""Checks of a service over HTTP(S): smoke, authentication, tenant isolation, headers, TLS, latency.

Pure: the gateway component (``components.http``) and the downstream services component
(``components.services``) send every request, handshake and timed probe and record them as plain
data (``exchange.Exchange`` and the snapshot types here); the functions in these modules judge that
data and return findings. ``catalog`` declares every rule and checklist item; ``expectations``
holds the ``[http.expect]`` tables they judge against.
"""
