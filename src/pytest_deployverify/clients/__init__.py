"""Clients for the components a checklist verifies (Kubernetes, Redis, Prometheus, Alertmanager,
HTTP, PostgreSQL). Each module imports its own library, so only the components a profile
configures need their packages installed."""
