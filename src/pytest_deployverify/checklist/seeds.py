"""Every line of the two source checklists and what covers it: a check, a shipped manual item, a
sign-off role preset, or why it is out of scope for a post-deploy verifier.

``SEEDS.md`` beside this module is rendered from this table and the declarations (titles,
severities), ``python -m pytest_deployverify.checklist.seeds > SEEDS.md``; a test fails when a check
id, gate, manual item or preset named here does not exist, or the file is stale.

A check id may name a ready-made gate of MON-GATE (``MON-GATE[error_rate]``: the item of that
``[[gates]]`` entry). Shell command blocks of the seeds are procedures, not checklist lines: what
they check is what the lines around them ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

API_GATEWAY = "API Gateway - Production Deployment Checklist"
PLATFORM = "APG Integration API Management - Production Deployment Checklist"

# Why lines are out of scope (the table says which applies).
PRE = "pre-deployment process (tests, build, review in CI): out of scope for a post-deploy verifier"
PROCESS = "a process step with no system state to verify: out of scope"
OPERATIONS = (
    "recurring operations after the release: out of scope for a one-shot verification "
    "(re-run the verification, or a [[gates]] soak with watch, for a bounded window)"
)


@dataclass(frozen=True)
class Line:
    """One line of a source checklist and what covers it."""

    text: str
    checks: tuple[str, ...] = ()
    manual: tuple[str, ...] = ()
    roles: str = ""  # a role preset whose sign-off line it is
    note: str = ""  # partial coverage, or why it is out of scope

    @property
    def covered(self) -> bool:
        return bool(self.checks or self.manual or self.roles)


@dataclass(frozen=True)
class Part:
    seed: str
    heading: str
    lines: tuple[Line, ...]


def L(
    text: str,
    *checks: str,
    manual: Iterable[str] = (),
    roles: str = "",
    note: str = "",
) -> Line:
    """A table row (short on purpose: the table is long)."""
    return Line(text, tuple(checks), tuple(manual), roles, note)


TLS = ("SEC-GW-TLS-TRUST", "SEC-GW-TLS-EXPIRY")
SATURATION = ("MON-GATE[cpu_saturation]", "MON-GATE[memory_saturation]")
TENANTS = ("SEC-GW-TENANT-ISOLATION", "SEC-GW-TENANT-HEADER")
ROLLBACK = ("ROLLBACK-RUNNING", "ROLLBACK-NO-FAILED-PODS", "ROLLBACK-HELM", "ROLLBACK-RECOVERED")

PARTS: tuple[Part, ...] = (
    Part(
        API_GATEWAY,
        "1. Code Quality & Testing",
        (
            L("All unit tests passing (100% on critical paths)", note=PRE),
            L("All integration tests passing", note=PRE),
            L(
                "Load tests executed successfully (500+ concurrent users)",
                "SMOKE-GW-LOAD",
                note="a bounded load probe after the deploy; the full load test is CI's",
            ),
            L(
                "Security tests passing (ZERO tenant violations)",
                *TENANTS,
                "SEC-GW-AUTH-REQUIRED",
                "SEC-GW-JWT",
            ),
            L("Code reviewed and approved", note=PRE),
            L("No critical or high-severity vulnerabilities", "SEC-K8S-IMAGE-VULNS"),
            L("TypeScript compilation successful", note=PRE),
            L("Linting passes with no errors", note=PRE),
            L(
                "Dependencies audited (npm audit)",
                "SEC-K8S-IMAGE-VULNS",
                note="the image's scan covers the dependencies it ships; npm audit is CI's",
            ),
        ),
    ),
    Part(
        API_GATEWAY,
        "2. Configuration & Environment",
        (
            L("Production environment variables configured", "K8S-ENV-REQUIRED", "K8S-ENV-VALUES"),
            L(
                "JWT_SECRET (≥32 chars, unique per environment)",
                "K8S-SECRET-LENGTH",
                "K8S-SECRET-ENV",
                note="uniqueness across environments is not judged (one environment per run)",
            ),
            L(
                "REDIS_HOST, REDIS_PORT, REDIS_PASSWORD",
                "K8S-ENV-REQUIRED",
                "K8S-CONFIG-REFS",
                "SEC-REDIS-AUTH",
            ),
            L("All 19 downstream service URLs", "K8S-ENV-REQUIRED", "SMOKE-GW-DOWNSTREAM"),
            L("CORS_ORIGIN (production domain)", "K8S-ENV-VALUES", "SEC-GW-CORS"),
            L("NODE_ENV=production", "K8S-ENV-VALUES"),
            L("LOG_LEVEL=info", "K8S-ENV-VALUES"),
            L("RATE_LIMIT_MAX and RATE_LIMIT_WINDOW_MS", "K8S-ENV-REQUIRED", "SEC-GW-RATE-BURST"),
            L("Secrets management", "K8S-SECRET-ENV", manual=["secrets-vault"]),
            L(
                "Secrets stored in secure vault (AWS Secrets Manager, etc.)",
                manual=["secrets-vault"],
            ),
            L(
                "No hardcoded secrets in code",
                "K8S-SECRET-ENV",
                "SEC-LOGS-SECRETS",
                manual=["secrets-vault"],
                note="literals in the workloads' env and secrets in logs are found; scanning the "
                "code is CI's",
            ),
            L("Secrets rotation schedule documented", manual=["secrets-rotation"]),
            L("Access controls on secrets configured", "K8S-RBAC", manual=["secrets-access"]),
            L("Environment validation", "K8S-ENV-REQUIRED", "K8S-CONFIG-REFS"),
            L(
                "Test startup with production-like config",
                "K8S-ROLLOUT",
                note="the release started in production with its config; a staging rehearsal "
                "is pre-deployment",
            ),
            L("Validate all required env vars present", "K8S-ENV-REQUIRED"),
            L("Verify service URLs are reachable", "SMOKE-GW-DOWNSTREAM"),
        ),
    ),
    Part(
        API_GATEWAY,
        "3. Infrastructure",
        (
            L(
                "Docker image built and pushed to registry",
                "K8S-ROLLOUT",
                note="the pods pulled it and run it",
            ),
            L("Image tagged with version number", "K8S-IMAGE-TAG", "SMOKE-GW-VERSION"),
            L("Image scanned for vulnerabilities", "SEC-K8S-IMAGE-VULNS"),
            L("Size optimized (<500MB)", "K8S-IMAGE-SIZE"),
            L(
                "Kubernetes manifests prepared",
                "K8S-SCHEMA",
                "K8S-HELM-DRIFT",
                note="K8S-SCHEMA in pre-deploy mode (--manifests)",
            ),
            L("Deployment YAML configured", "K8S-ROLLOUT", "K8S-SCHEMA"),
            L("Service YAML configured", "K8S-SERVICE"),
            L("ConfigMap/Secret YAMLs configured", "K8S-CONFIG-REFS"),
            L("Resource limits set (CPU, memory)", "K8S-RESOURCES"),
            L("Health check endpoints configured", "K8S-PROBES", "SMOKE-GW-HEALTH"),
            L("Horizontal Pod Autoscaler (HPA) configured", "K8S-HPA"),
            L("Networking", "K8S-SERVICE", "K8S-INGRESS"),
            L(
                "Internal service mesh configured",
                note="not covered: no service-mesh check (sidecars, mTLS policy) yet; a "
                "profile relying on one adds a [[manual]] item",
            ),
            L("Load balancer configured", "K8S-INGRESS", manual=["perimeter-load-balancer"]),
            L("TLS certificates installed", *TLS, "K8S-INGRESS-TLS"),
            L("DNS records configured", "INFRA-DNS-RECORDS", "K8S-DNS"),
            L("Firewall rules configured", manual=["perimeter-firewall"]),
        ),
    ),
    Part(
        API_GATEWAY,
        "4. Database & Cache",
        (
            L("Redis cluster deployed", "INFRA-REDIS-REACH"),
            L("Password authentication enabled", "SEC-REDIS-AUTH"),
            L("TLS enabled", "SEC-REDIS-TLS"),
            L("Persistence configured", "INFRA-REDIS-PERSIST"),
            L("Backup strategy in place", manual=["backup-strategy"]),
            L("Monitoring enabled", "MON-REDIS-EXPORTER"),
            L(
                "Database migrations",
                note="the gateway has no database (the seed says N/A); the platform's "
                "PostgreSQL is covered by INFRA-PG-* below",
            ),
            L("N/A (Gateway doesn't have database)", note="nothing to verify (N/A in the seed)"),
        ),
    ),
    Part(
        API_GATEWAY,
        "5. Monitoring & Observability",
        (
            L("Prometheus configured", "MON-PROM-READY"),
            L("Scrape config for API Gateway", "MON-PROM-TARGETS"),
            L("Service discovery working", "MON-PROM-TARGETS"),
            L("Metrics endpoint accessible", "SMOKE-GW-METRICS"),
            L("Grafana dashboards", "MON-GRAFANA-HEALTH"),
            L("API Gateway dashboard imported", "MON-GRAFANA-DASHBOARDS"),
            L("Datasource connected", "MON-GRAFANA-DASHBOARDS"),
            L("Dashboard accessible to ops team", manual=["dashboards-team-access"]),
            L("Alerting", "MON-PROM-RULES"),
            L("Alert rules loaded in Prometheus", "MON-PROM-RULES"),
            L(
                "Alertmanager configured",
                "MON-AM-READY",
                "MON-AM-RECEIVERS",
                "MON-PROM-ALERTMANAGER",
            ),
            L("PagerDuty integration tested", "MON-AM-RECEIVERS", manual=["alerts-e2e"]),
            L("Slack integration tested", "MON-AM-RECEIVERS", manual=["alerts-e2e"]),
            L("On-call rotation established", manual=["oncall"]),
            L("Distributed tracing", "MON-TRACES-RECENT"),
            L("Jaeger/Tempo deployed", "MON-TRACES-RECENT"),
            L(
                "OTLP endpoint configured",
                "MON-TRACES-RECENT",
                note="traces arriving show the exporter's endpoint works",
            ),
            L("Traces visible in UI", "MON-TRACES-RECENT"),
            L(
                "Trace propagation verified",
                "MON-TRACES-RECENT",
                note="partly: the service's recent traces are seen; spans continuing into the "
                "downstream services are not judged",
            ),
            L("Logging", "MON-LOGS-RECENT"),
            L("Centralized logging (ELK/Loki) configured", "MON-LOGS-RECENT"),
            L("Log retention policy set (30 days)", manual=["log-retention"]),
            L("Log aggregation working", "MON-LOGS-RECENT"),
            L("Sensitive data masked in logs", "SEC-LOGS-SECRETS", "SEC-K8S-POD-LOGS"),
        ),
    ),
    Part(
        API_GATEWAY,
        "6. Security",
        (
            L("Security review completed", manual=["security-review"]),
            L("All CVEs fixed", "SEC-K8S-IMAGE-VULNS"),
            L("Penetration testing planned (post-launch)", manual=["pen-test"]),
            L(
                "Security sign-off obtained",
                manual=["security-review"],
                roles="api-gateway",
                note="the Security Team line of the sign-off (--approve)",
            ),
            L("TLS/SSL", *TLS),
            L("Valid certificates installed", *TLS),
            L("TLS 1.3 enforced", "SEC-GW-TLS-VERSION"),
            L(
                "Certificate expiry monitoring enabled",
                "SEC-GW-TLS-EXPIRY",
                "MON-PROM-RULES",
                note="the days left at each run; an expiry alert rule when [prometheus.expect] "
                "rule_groups lists it",
            ),
            L("Authentication & Authorization", "SEC-GW-AUTH-REQUIRED", "SEC-GW-JWT"),
            L("JWT validation on all routes", "SEC-GW-AUTH-REQUIRED", "SEC-GW-JWT"),
            L("Tenant isolation verified", *TENANTS),
            L("Header filtering enabled", "SEC-GW-HDR-INTERNAL"),
            L("Rate limiting configured", "SEC-GW-RATE-BURST", "SEC-GW-RATE-HEADERS"),
            L("Network security", "K8S-NETWORK-POLICY"),
            L("Firewall rules configured", manual=["perimeter-firewall"]),
            L("VPC/subnet isolation", "K8S-NETWORK-POLICY", manual=["perimeter-vpc"]),
            L("Security groups configured", manual=["perimeter-security-groups"]),
            L("DDoS protection enabled", manual=["perimeter-ddos"]),
        ),
    ),
    Part(
        API_GATEWAY,
        "7. Documentation",
        (
            L("API documentation complete", "SMOKE-GW-OPENAPI", manual=["docs-api"]),
            L("OpenAPI spec published", "SMOKE-GW-OPENAPI"),
            L("Example requests/responses", manual=["docs-api"]),
            L("Error codes documented", "SMOKE-GW-ERROR-SHAPE", manual=["docs-api"]),
            L("Runbooks created", manual=["runbooks"]),
            L("Alert response procedures", manual=["runbooks"]),
            L("Incident playbooks", manual=["runbooks"]),
            L("Disaster recovery plan", manual=["dr-plan"]),
            L(
                "Rollback procedures",
                *ROLLBACK,
                manual=["runbooks"],
                note="the procedure written (runbooks); a rollback done, verified with "
                "--rollback-to VERSION",
            ),
            L("Operational docs", manual=["docs-operations"]),
            L("Deployment guide", manual=["docs-operations"]),
            L("Configuration guide", manual=["docs-operations"]),
            L("Troubleshooting guide", manual=["docs-operations"]),
            L("Architecture diagrams", manual=["docs-operations"]),
        ),
    ),
    Part(
        API_GATEWAY,
        "8. Backup & Disaster Recovery",
        (
            L("Backup strategy", manual=["backup-strategy"]),
            L("Redis data backup configured", "INFRA-REDIS-PERSIST", manual=["backup-strategy"]),
            L("Backup schedule documented", manual=["backup-strategy"]),
            L("Backup restoration tested", manual=["backup-restore"]),
            L("Disaster recovery plan", manual=["dr-plan"]),
            L("RTO/RPO defined", manual=["dr-plan"]),
            L("Failover procedures documented", manual=["dr-plan"]),
            L("DR drills scheduled", manual=["dr-drill"]),
            L("Multi-region setup (if applicable)", manual=["dr-multi-region"]),
        ),
    ),
    Part(
        API_GATEWAY,
        "Deployment Steps (phases 1 to 3)",
        (
            L("Final testing, build and tag the image, prepare the manifests", note=PRE),
            L("Send deployment notification to team", note=PROCESS),
            L("Schedule deployment window", note=PROCESS),
            L("Ensure on-call coverage", manual=["oncall"]),
            L(
                "Pre-deployment health check: downstream services and monitoring stack healthy",
                "SMOKE-GW-DOWNSTREAM",
                "MON-PROM-READY",
                "MON-GRAFANA-HEALTH",
            ),
            L(
                "Deploy to staging first and run the smoke tests there",
                note="another environment: run the same verification with the staging profile "
                "(pytest --env staging -m smoke)",
            ),
            L(
                "Verify deployment: health endpoints, metrics, authentication flow, protected "
                "route",
                "SMOKE-GW-HEALTH",
                "SMOKE-GW-METRICS",
                "SEC-GW-TOKEN-FLOW",
                "SEC-GW-AUTH-REQUIRED",
            ),
            L(
                "Watch Grafana dashboard for 15 minutes",
                "MON-GRAFANA-DASHBOARDS",
                "MON-GATE",
                note="the gates judge the last 15 minutes at once; watch = '15m' makes one a soak",
            ),
            L(
                "Monitor error rates and latency",
                "MON-GATE[error_rate]",
                "MON-GATE[p95_latency]",
                "SMOKE-GW-LATENCY",
            ),
            L("Check circuit breaker status", "MON-GATE[circuit_breakers_open]"),
            L(
                "Verify no security violations",
                "MON-ALERTS-FIRING",
                note="no critical alert firing; a security-violation metric needs a [[gates]] "
                "query of the team's own",
            ),
            L("Monitor memory/CPU usage", *SATURATION),
            L(
                "Smoke testing: user authentication, venue browsing, event viewing, ticket "
                "purchasing (test mode)",
                "SEC-GW-TOKEN-FLOW",
                "SMOKE-GW-FLOWS",
                "SMOKE-GW-FLOWS-WRITE",
            ),
            L(
                "Monitoring validation: metrics flowing to Prometheus, alert rules, traces in "
                "Jaeger",
                "MON-PROM-TARGETS",
                "MON-PROM-RULES",
                "MON-TRACES-RECENT",
            ),
            L(
                "Load testing: response times, error rates, circuit breakers, resources under load",
                "SMOKE-GW-LOAD",
                "MON-GATE[circuit_breakers_open]",
                *SATURATION,
            ),
            L("Update deployment logs", note=PROCESS),
            L("Document any issues encountered", note=PROCESS),
            L("Update runbooks if needed", manual=["runbooks"]),
            L("Send success notification", note=PROCESS),
        ),
    ),
    Part(
        API_GATEWAY,
        "Rollback Procedures: when to roll back, verify, post-rollback",
        (
            L(
                "Error rate >5% for >5 minutes",
                "MON-GATE[rollback_error_rate]",
                "ROLLBACK-RECOVERED",
            ),
            L(
                "P95 latency >2s for >10 minutes",
                "MON-GATE[rollback_p95_latency]",
                "ROLLBACK-RECOVERED",
            ),
            L(
                "Any security violations detected",
                "MON-ALERTS-FIRING",
                note="as above: a violation metric needs a [[gates]] query of the team's own",
            ),
            L("Circuit breakers open for multiple services", "MON-GATE[circuit_breakers_open]"),
            L("Memory/CPU at >90% sustained", *SATURATION),
            L("Critical alerts firing", "MON-ALERTS-FIRING"),
            L(
                "Verify rollback: previous version running, health, smoke tests, metrics for "
                "15 minutes",
                *ROLLBACK,
                "SMOKE-GW-HEALTH",
                note="pytest --env NAME --rollback-to VERSION",
            ),
            L("Notify stakeholders", note=PROCESS),
            L("Document rollback reason", note=PROCESS),
            L("Create incident ticket", note=PROCESS),
            L("Schedule post-mortem", note=PROCESS),
            L("Plan fix and re-deployment", note=PROCESS),
        ),
    ),
    Part(
        API_GATEWAY,
        "Post-Deployment Monitoring: first 24 hours",
        (
            L("Error rates (<0.1%)", "MON-GATE[error_rate]"),
            L(
                "Response times (p95 <1s, p99 <2s)",
                "MON-GATE[p95_latency]",
                "MON-GATE[p99_latency]",
            ),
            L("Circuit breaker health", "MON-GATE[circuit_breakers_open]"),
            L("Memory/CPU usage", *SATURATION),
            L("Tenant isolation (ZERO violations)", *TENANTS),
            L("Security alerts (ZERO violations)", "MON-ALERTS-FIRING"),
            L("Grafana dashboards (hourly)", "MON-GRAFANA-DASHBOARDS", note=OPERATIONS),
            L("PagerDuty incidents (hourly)", "MON-ALERTS-FIRING", note=OPERATIONS),
            L("Slack alerts (hourly)", "MON-ALERTS-FIRING", note=OPERATIONS),
            L("Application logs (hourly)", "MON-LOGS-RECENT", "SEC-LOGS-SECRETS", note=OPERATIONS),
            L("Downstream service health (hourly)", "SMOKE-GW-DOWNSTREAM", note=OPERATIONS),
        ),
    ),
    Part(
        API_GATEWAY,
        "Post-Deployment Monitoring: first week",
        (
            L("Review metrics trends", note=OPERATIONS),
            L("Check for any anomalies", note=OPERATIONS),
            L(
                "Verify alert configuration",
                "MON-PROM-RULES",
                "MON-AM-RECEIVERS",
                note="at verification time; daily is operations",
            ),
            L("Review incident reports", note=OPERATIONS),
            L("Update documentation", manual=["docs-operations"]),
            L("Performance review meeting", note=OPERATIONS),
            L("Review user feedback", note=OPERATIONS),
            L("Plan optimization if needed", note=OPERATIONS),
            L("Update monitoring thresholds", note=OPERATIONS),
        ),
    ),
    Part(
        API_GATEWAY,
        "Success Criteria",
        (
            L(
                "Service is running and healthy for 24 hours",
                "K8S-ROLLOUT",
                "SMOKE-GW-HEALTH",
                note="at verification time; 24 hours of it is operations (re-run, or a soak)",
            ),
            L("Error rate <0.1%", "MON-GATE[error_rate]"),
            L("P95 latency <1s", "MON-GATE[p95_latency]"),
            L("All health checks passing", "SMOKE-GW-HEALTH", "K8S-PROBES"),
            L("No critical alerts fired", "MON-ALERTS-FIRING"),
            L(
                "ZERO security violations",
                "MON-ALERTS-FIRING",
                note="a violation metric needs a [[gates]] query of the team's own",
            ),
            L("ZERO tenant isolation violations", *TENANTS),
            L("Circuit breakers functioning properly", "MON-GATE[circuit_breakers_open]"),
            L(
                "Monitoring and alerts working",
                "MON-PROM-TARGETS",
                "MON-PROM-RULES",
                "MON-PROM-ALERTMANAGER",
                "MON-AM-READY",
            ),
            L("Load tests passing", "SMOKE-GW-LOAD"),
            L("User feedback positive", note="product feedback, not system state: out of scope"),
        ),
    ),
    Part(
        API_GATEWAY,
        "Emergency Contacts and Sign-Off",
        (
            L("On-Call Rotation: primary, secondary, manager", manual=["oncall"]),
            L(
                "Escalation Path: on-call engineer, team lead, engineering manager, CTO",
                manual=["escalation"],
            ),
            L(
                "External Contacts: cloud provider, infrastructure team, security team",
                manual=["escalation"],
            ),
            L("Engineering Lead: ____ Date: ____", roles="api-gateway"),
            L("Security Team: ____ Date: ____", roles="api-gateway"),
            L("Operations Team: ____ Date: ____", roles="api-gateway"),
            L("Product Manager: ____ Date: ____", roles="api-gateway"),
            L(
                "Deployment Executed By / Date / Status",
                note="the sign-off's run information: run by, finished, verdict",
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Pre-Deployment Validation: Infrastructure Readiness",
        (
            L(
                "Kubernetes Cluster: Production cluster configured and validated",
                "K8S-NAMESPACE",
                "K8S-NODE-CAPACITY",
                "K8S-VERIFIER-READ-ONLY",
            ),
            L(
                "Node Resources: Sufficient compute, memory, and storage capacity",
                "K8S-NODE-CAPACITY",
            ),
            L(
                "Network Connectivity: All required ports and protocols accessible",
                "K8S-SERVICE",
                "SMOKE-GW-HEALTH",
                "SMOKE-GW-DOWNSTREAM",
            ),
            L(
                "Storage Classes: Fast SSD storage classes available and tested",
                "K8S-STORAGE-CLASS",
            ),
            L(
                "Load Balancer: External load balancer configured and tested",
                "K8S-INGRESS",
                manual=["perimeter-load-balancer"],
            ),
            L(
                "DNS Configuration: Domain names properly configured and validated",
                "INFRA-DNS-RECORDS",
                "INFRA-DNS-TTL",
                "K8S-DNS",
            ),
            L(
                "SSL Certificates: Valid certificates installed and auto-renewal configured",
                *TLS,
                note="partly: the days left are judged, not the renewal automation itself",
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Pre-Deployment Validation: Security Prerequisites",
        (
            L("Namespace Isolation: namespace created", "K8S-NAMESPACE", "K8S-NETWORK-POLICY"),
            L(
                "RBAC Configuration: Service accounts and role bindings in place",
                "K8S-SERVICE-ACCOUNT",
                "K8S-SA-EXISTS",
                "K8S-RBAC",
            ),
            L("Network Policies: Traffic isolation rules configured", "K8S-NETWORK-POLICY"),
            L(
                "Secrets Management: All secrets created and validated",
                "K8S-CONFIG-REFS",
                "K8S-SECRET-LENGTH",
                "K8S-SECRET-ENV",
            ),
            L("Image Security: Container images scanned and approved", "SEC-K8S-IMAGE-VULNS"),
            L("Firewall Rules: Network security rules implemented", manual=["perimeter-firewall"]),
            L("Compliance Validation: Security controls verified", manual=["compliance"]),
        ),
    ),
    Part(
        PLATFORM,
        "Pre-Deployment Validation: Database Preparation",
        (
            L("PostgreSQL Instance: Production database server ready", "INFRA-PG-VERSION"),
            L("Database Creation: database created", "INFRA-PG-DATABASE"),
            L(
                "User Permissions: Application database user configured",
                "SEC-PG-ROLE",
                "SEC-PG-PRIVILEGES",
            ),
            L(
                "Backup Strategy: Automated backup solution implemented",
                "INFRA-PG-ARCHIVING",
                manual=["backup-strategy"],
                note="WAL archiving when the profile opts in; other backups are attested",
            ),
            L(
                "Monitoring Setup: Database monitoring configured",
                note="not covered: no PostgreSQL exporter check yet; a [[gates]] query on the "
                "exporter's pg_up does it",
            ),
            L("Performance Tuning: Database parameters optimized", "INFRA-PG-SETTINGS"),
            L("Connection Pooling: Pool settings configured and tested", "INFRA-PG-CONNECTIONS"),
        ),
    ),
    Part(
        PLATFORM,
        "Pre-Deployment Validation: Cache Preparation",
        (
            L("Redis Cluster: Production Redis instance ready", "INFRA-REDIS-REACH"),
            L(
                "High Availability: Redis Sentinel configured (if applicable)",
                "INFRA-REDIS-SENTINEL",
                "INFRA-REDIS-REPLICATION",
            ),
            L("Memory Allocation: Sufficient memory allocated", "INFRA-REDIS-MEMORY"),
            L(
                "Persistence Config: Backup and persistence settings configured",
                "INFRA-REDIS-PERSIST",
                manual=["backup-strategy"],
            ),
            L("Access Control: Redis authentication configured", "SEC-REDIS-AUTH"),
            L("Monitoring Setup: Cache monitoring implemented", "MON-REDIS-EXPORTER"),
        ),
    ),
    Part(
        PLATFORM,
        "Deployment Process and Helm",
        (
            L(
                "Helm installation verified (helm status, helm test)",
                "K8S-HELM-RELEASE",
                "K8S-HELM-DRIFT",
            ),
            L(
                "Phases 1-6 (namespace, database, cache, application, ingress, monitoring "
                "applied and waited for)",
                "K8S-ROLLOUT",
                note="procedures; what they wait for is checked by the lines below",
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Post-Deployment Validation: Functional Testing",
        (
            L("Health Endpoints: All health checks returning 200 OK", "SMOKE-GW-HEALTH"),
            L("API Endpoints: Core API functionality working", "SMOKE-GW-FLOWS"),
            L(
                "Gateway Functionality: Request routing and processing",
                "SMOKE-GW-FLOWS",
                "SMOKE-GW-DOWNSTREAM",
            ),
            L(
                "Authentication: OAuth 2.0/OIDC flows working",
                "SEC-GW-TOKEN-FLOW",
                "SEC-GW-CREDENTIAL",
            ),
            L("Database Operations: CRUD operations successful", "SMOKE-GW-FLOWS-WRITE"),
            L("Cache Operations: Redis read/write operations", "SMOKE-REDIS-READ-WRITE"),
            L(
                "File Upload/Download: Large file handling (if applicable)",
                "SMOKE-GW-FLOWS-WRITE",
                note="as a [[http.expect.flows]] entry that uploads",
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Post-Deployment Validation: Performance Validation",
        (
            L("Response Times: P95 latency under 200ms", "SMOKE-GW-LATENCY"),
            L("Throughput: Handling expected request volume", "SMOKE-GW-LOAD"),
            L("Resource Usage: CPU and memory within limits", *SATURATION),
            L(
                "Auto-scaling: HPA responding to load changes",
                "K8S-HPA",
                "MON-GATE[hpa_at_max]",
            ),
            L("Connection Pooling: Database connections optimized", "INFRA-PG-CONNECTIONS"),
            L(
                "Cache Hit Rate: Redis hit rate above 90%",
                "MON-REDIS-HITRATE",
                "MON-GATE[cache_hit_rate]",
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Post-Deployment Validation: Security Validation",
        (
            L(
                "SSL/TLS: HTTPS working with valid certificates",
                *TLS,
                "SEC-GW-TLS-VERSION",
                "SEC-GW-TLS-REDIRECT",
            ),
            L(
                "Authentication: Access controls functioning",
                "SEC-GW-AUTH-REQUIRED",
                "SEC-GW-CREDENTIAL",
            ),
            L("Authorization: RBAC policies enforced", "SEC-GW-TENANT-ISOLATION", "K8S-RBAC"),
            L("Network Policies: Traffic isolation verified", "K8S-NETWORK-POLICY"),
            L(
                "Secrets: No secrets exposed in logs or environment",
                "SEC-LOGS-SECRETS",
                "SEC-K8S-POD-LOGS",
                "K8S-SECRET-ENV",
            ),
            L("Vulnerability Scan: No critical vulnerabilities found", "SEC-K8S-IMAGE-VULNS"),
        ),
    ),
    Part(
        PLATFORM,
        "Post-Deployment Validation: Monitoring Validation",
        (
            L("Metrics Collection: Prometheus scraping metrics", "MON-PROM-TARGETS"),
            L(
                "Dashboard Access: Grafana dashboards accessible",
                "MON-GRAFANA-DASHBOARDS",
                manual=["dashboards-team-access"],
            ),
            L(
                "Alert Rules: Alert rules configured and tested",
                "MON-PROM-RULES",
                manual=["alerts-e2e"],
            ),
            L("Log Collection: Application logs flowing to aggregator", "MON-LOGS-RECENT"),
            L("APM Integration: Application performance monitoring active", "MON-TRACES-RECENT"),
            L(
                "Synthetic Monitoring: External health checks working",
                manual=["synthetic-monitoring"],
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Rollback Procedures and Troubleshooting",
        (
            L(
                "Immediate Rollback (Helm): helm rollback, then verify status and pods",
                *ROLLBACK,
            ),
            L(
                "Manual Rollback (kubectl): rollout undo, then verify status and pods",
                "ROLLBACK-RUNNING",
                "ROLLBACK-NO-FAILED-PODS",
                "ROLLBACK-RECOVERED",
                note="without a Helm revision, --rollback-at gives the rollback time",
            ),
            L(
                "Database Rollback: restore from backup (if schema changes were made)",
                manual=["backup-restore"],
                note="the restore is a procedure; that restoring works is attested",
            ),
            L(
                "Troubleshooting Guide: pods, database connections, memory, TLS",
                manual=["docs-operations"],
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Maintenance Procedures",
        (
            L("Certificate Renewal: Monitor and renew SSL certificates", "SEC-GW-TLS-EXPIRY"),
            L("Database Maintenance: Regular vacuum and analyze operations", note=OPERATIONS),
            L(
                "Log Rotation: Ensure log files don't consume excessive space",
                manual=["log-retention"],
            ),
            L("Backup Verification: Test backup restoration procedures", manual=["backup-restore"]),
            L(
                "Security Updates: Apply security patches to base images",
                "SEC-K8S-IMAGE-VULNS",
                note="unpatched images are found at each run; patching is operations",
            ),
            L("Performance Review: Monitor and optimize performance metrics", note=OPERATIONS),
            L(
                "Capacity Planning: Review resource usage and scaling needs",
                "K8S-NODE-CAPACITY",
                note="the headroom now; planning is operations",
            ),
            L("Monthly: Security patches and minor updates", note=OPERATIONS),
            L("Quarterly: Major version updates and infrastructure changes", note=OPERATIONS),
            L(
                "Annually: Comprehensive security audit and penetration testing",
                manual=["pen-test", "security-review"],
            ),
        ),
    ),
    Part(
        PLATFORM,
        "Contact Information and Sign-off",
        (
            L("Escalation Matrix: Level 1 to Level 3 support", manual=["escalation"]),
            L(
                "Emergency Contacts: on-call engineer, platform manager, security team",
                manual=["oncall", "escalation"],
            ),
            L("DevOps Engineer: ____ Date: ____", roles="platform"),
            L("Platform Engineer: ____ Date: ____", roles="platform"),
            L("Security Engineer: ____ Date: ____", roles="platform"),
            L("Product Owner: ____ Date: ____", roles="platform"),
            L("Engineering Manager: ____ Date: ____", roles="platform"),
            L("CTO: ____ Date: ____", roles="platform"),
        ),
    ),
)


def check_ids(line: Line) -> list[tuple[str, str | None]]:
    """(check id, ready-made gate or None) for each check a line names."""
    found: list[tuple[str, str | None]] = []
    for ref in line.checks:
        base, _, gate = ref.partition("[")
        found.append((base, gate.rstrip("]") or None))
    return found


def render(titles: Mapping[str, str], manual_titles: Mapping[str, str]) -> str:
    """SEEDS.md: per seed and heading, every line with its checks, manual items and notes."""
    out = [
        "# The source checklists, line by line",
        "",
        "Every line of the two source checklists (checkboxes, the rollback triggers, the "
        "monitoring and success criteria, contacts and sign-off) and what covers it: a check "
        "of the shipped checklist, a shipped manual item (pending in the sign-off until "
        'attested with `--attest ID=NAME`), a sign-off role preset (`roles = "NAME"`), or '
        "why it is out of scope for a post-deploy verifier. Generated from "
        "`checklist/seeds.py` and the declarations: "
        "`python -m pytest_deployverify.checklist.seeds > SEEDS.md`.",
        "",
    ]
    totals = {"checks": 0, "manual": 0, "roles": 0, "out": 0}
    for part in PARTS:
        for line in part.lines:
            if line.checks:
                totals["checks"] += 1
            elif line.manual:
                totals["manual"] += 1
            elif line.roles:
                totals["roles"] += 1
            else:
                totals["out"] += 1
    count = sum(totals.values())
    out += [
        f"_{count} lines: {totals['checks']} covered by checks, {totals['manual']} by manual "
        f"items only, {totals['roles']} by a sign-off role preset, {totals['out']} out of scope "
        "or not covered (said why)._",
        "",
    ]
    seed = None
    for part in PARTS:
        if part.seed != seed:
            seed = part.seed
            out += [f"## {seed}", ""]
        out += [f"### {part.heading}", "", "| Line | Covered by | Note |", "|---|---|---|"]
        for line in part.lines:
            cover = [
                f"`{ref}` {_cell(titles.get(ref.partition('[')[0], '?'))}" for ref in line.checks
            ]
            cover += [f"manual `{m}` {_cell(manual_titles.get(m, '?'))}" for m in line.manual]
            if line.roles:
                cover.append(f'roles preset `"{line.roles}"`')
            out.append(f"| {_cell(line.text)} | {'<br>'.join(cover) or '—'} | {_cell(line.note)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def current() -> str:
    """SEEDS.md as the installed declarations render it."""
    from pytest_deployverify.checks.manual import SHIPPED_MANUAL
    from pytest_deployverify.checks.rollback_checks import CHECKS as ROLLBACK_CHECKS
    from pytest_deployverify.components.catalog import all_components, check_catalog

    titles = {key: spec.title for key, spec in check_catalog(all_components()).items()}
    titles.update({spec.id: spec.title for spec in ROLLBACK_CHECKS})
    return render(titles, {item.id: item.title or item.id for item in SHIPPED_MANUAL})


if __name__ == "__main__":
    print(current(), end="")
