"""Tests of the Kubernetes checklist: kube_checklist.py and verify/test_*_kubernetes.py."""
