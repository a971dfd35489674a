"""The shipped checklist's manual items: what the two source checklists ask that no machine can
verify from outside (a vault's access policy, a DR drill, a pen test, an on-call rotation).

Each is a ``ManualItem`` declared once here, listed in every sign-off of a whole-checklist run as
pending until a person attests it (``--attest ID=NAME``, or in the profile, bound to a release
and an age). A profile drops the ones that do not apply (``[shipped_manual] drop``, with the
reason), completes one by its id in ``[[manual]]``, and adds its own there. ``note`` says what
the attestation stands for; ``checklist/SEEDS.md`` maps every seed line to its item or check.
"""

from __future__ import annotations

from pytest_deployverify.profile.model import ManualItem, Section
from pytest_deployverify.profile.schema import build

__all__ = ["SHIPPED_MANUAL", "shipped_ids"]


def _item(id: str, section: Section, title: str, note: str) -> ManualItem:
    return build(ManualItem, {"id": id, "title": title, "section": section.value, "note": note})


INFRA, SECURITY, MONITORING = Section.INFRA, Section.SECURITY, Section.MONITORING

SHIPPED_MANUAL: tuple[ManualItem, ...] = (
    # -- infrastructure: perimeter, backups, disaster recovery, documentation ------------------
    _item(
        "perimeter-load-balancer",
        INFRA,
        "External load balancer configured and tested",
        "listeners, health checks and failover of the cloud load balancer in front of the "
        "Ingress (the checks see only the address it publishes)",
    ),
    _item(
        "backup-strategy",
        INFRA,
        "Backups configured and their schedule documented (Redis, PostgreSQL)",
        "where the backups go, how often, how long they are kept",
    ),
    _item(
        "backup-restore",
        INFRA,
        "Backup restoration tested",
        "a restore of the latest backup into a scratch environment, with the date and the "
        "time it took",
    ),
    _item(
        "dr-plan",
        INFRA,
        "Disaster recovery plan written: RTO/RPO defined, failover procedure documented",
        "the plan's location and the agreed RTO/RPO",
    ),
    _item(
        "dr-drill",
        INFRA,
        "DR drill held: failover exercised within the RTO/RPO",
        "the last drill's report with the measured RTO/RPO",
    ),
    _item(
        "dr-multi-region",
        INFRA,
        "Multi-region setup in place (if applicable)",
        "drop it in [shipped_manual] with the reason when the service runs in one region",
    ),
    _item(
        "runbooks",
        INFRA,
        "Runbooks written: alert response, incident playbooks, rollback procedure",
        "one runbook per alert rule; the rollback procedure is verified by --rollback-to",
    ),
    _item(
        "docs-operations",
        INFRA,
        "Operational docs current: deployment, configuration and troubleshooting guides, "
        "architecture diagrams",
        "updated for this release",
    ),
    _item(
        "docs-api",
        INFRA,
        "API documentation complete: example requests and responses, error codes",
        "SMOKE-GW-OPENAPI checks the published document, not its completeness",
    ),
    # -- security: secrets, perimeter, reviews -----------------------------------------------
    _item(
        "secrets-vault",
        SECURITY,
        "Secrets kept in a secrets manager, none hardcoded in code or images",
        "the vault (AWS Secrets Manager, Vault, ...) the cluster's Secrets are synced from",
    ),
    _item(
        "secrets-access",
        SECURITY,
        "Access to the secrets restricted and reviewed (vault policies, who can read them)",
        "K8S-RBAC judges access inside the cluster; this is the vault side",
    ),
    _item(
        "secrets-rotation",
        SECURITY,
        "Secrets rotation schedule documented",
        "JWT signing key, Redis and database passwords, API clients",
    ),
    _item(
        "perimeter-firewall",
        SECURITY,
        "Firewall rules configured: only the service's ports are open",
        "cloud and host firewalls; K8S-NETWORK-POLICY judges the cluster's own policies",
    ),
    _item(
        "perimeter-vpc",
        SECURITY,
        "VPC and subnet isolation in place",
        "private subnets for the cluster, the database and the cache",
    ),
    _item(
        "perimeter-security-groups",
        SECURITY,
        "Security groups allow only the traffic the service needs",
        "ingress from the load balancer, egress to the dependencies",
    ),
    _item(
        "perimeter-ddos",
        SECURITY,
        "DDoS protection enabled in front of the public endpoint",
        "the provider's protection (AWS Shield, Cloud Armor, ...) on the load balancer",
    ),
    _item(
        "security-review",
        SECURITY,
        "Security review completed and signed off",
        "the review's ticket; open findings tracked",
    ),
    _item(
        "pen-test",
        SECURITY,
        "Penetration test done or scheduled, findings tracked",
        "the source checklists plan it after launch and yearly",
    ),
    _item(
        "compliance",
        SECURITY,
        "Compliance controls verified",
        "the framework that applies (SOC 2, ISO 27001, PCI DSS) and where its evidence is",
    ),
    # -- monitoring and operations ------------------------------------------------------------
    _item(
        "oncall",
        MONITORING,
        "On-call rotation established, with coverage for the deployment",
        "primary and secondary on-call in the paging tool",
    ),
    _item(
        "escalation",
        MONITORING,
        "Escalation path and emergency contacts documented",
        "on-call engineer, team lead, engineering manager, CTO; provider and security contacts",
    ),
    _item(
        "alerts-e2e",
        MONITORING,
        "Alert integrations tested end to end: a test alert reached PagerDuty and Slack",
        "MON-AM-RECEIVERS checks the routing; only a test alert proves delivery",
    ),
    _item(
        "log-retention",
        MONITORING,
        "Log retention policy set (30 days or as required)",
        "the log store's retention setting",
    ),
    _item(
        "dashboards-team-access",
        MONITORING,
        "Dashboards accessible to the operations team",
        "MON-GRAFANA-DASHBOARDS checks them with the verifier's own token",
    ),
    _item(
        "synthetic-monitoring",
        MONITORING,
        "External synthetic health checks running against the public endpoint",
        "the uptime or synthetic monitoring service's check and its alert",
    ),
)


def shipped_ids() -> list[str]:
    return [item.id for item in SHIPPED_MANUAL]
