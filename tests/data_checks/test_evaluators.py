"""Evaluators on plain data: the states a healthy test server cannot easily be put into (a failed
BGSAVE, a stale archive, a lagging replica, a silenced alert) and the parsing helpers."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from pytest_deployverify.checks.alertmanager import receiver_findings, routed_receivers
from pytest_deployverify.checks.declarations import SPEC_ATTRIBUTE, CheckSpec
from pytest_deployverify.checks.gates import (
    Aggregation,
    Condition,
    FailureCount,
    GateEvaluation,
    GateOutcome,
    GateSpec,
    MetricGate,
    NoDataPolicy,
    evaluate_gate,
    gate_verdict,
    resolve_gate,
)
from pytest_deployverify.checks.postgres import (
    ArchiverStatus,
    Replica,
    Setting,
    archiver_findings,
    replication_findings,
    setting_matches,
    split_object,
)
from pytest_deployverify.checks.prometheus import (
    AlertmanagerLink,
    alertmanager_link_findings,
    firing_alerts,
    identify_alertmanager,
    settled_firing,
)
from pytest_deployverify.checks.redis import (
    RedisExpectations,
    RedisSnapshot,
    persistence_findings,
    rdb_schedule,
)
from pytest_deployverify.components import alertmanager as alertmanager_c
from pytest_deployverify.components import grafana as grafana_c
from pytest_deployverify.components import logs as logs_c
from pytest_deployverify.components import prometheus as prometheus_c
from pytest_deployverify.components import tracing as tracing_c
from pytest_deployverify.profile.fields import format_duration, parse_duration
from pytest_deployverify.profile.schema import build

NOW = 1_800_000_000.0


def snapshot(config: dict[str, str] | None = None, **info: Any) -> RedisSnapshot:
    base = {
        "aof_enabled": 0,
        "rdb_last_bgsave_status": "ok",
        "rdb_last_save_time": int(NOW - 60),
        "rdb_changes_since_last_save": 0,
        "uptime_in_seconds": 86400,
    }
    return RedisSnapshot(
        "10.0.0.5:6379", {**base, **info}, {"save": "3600 1"} if config is None else config, (), NOW
    )


# -- redis persistence ------------------------------------------------------------------------------


def test_failed_bgsave_is_reported() -> None:
    [finding] = persistence_findings(snapshot(rdb_last_bgsave_status="err"), RedisExpectations())
    assert finding.message == "the last RDB save failed (rdb_last_bgsave_status:err); expected ok"


def test_failed_aof_write_is_reported() -> None:
    snap = snapshot(aof_enabled=1, aof_last_write_status="err", aof_last_bgrewrite_status="ok")
    [finding] = persistence_findings(snap, RedisExpectations())
    assert "aof_last_write_status:err" in finding.message


def test_unsaved_changes_older_than_the_threshold() -> None:
    snap = snapshot(rdb_last_save_time=int(NOW - 2 * 86400), rdb_changes_since_last_save=120)
    [finding] = persistence_findings(snap, build(RedisExpectations, {"max_save_age_s": 86400}))
    assert finding.message.startswith("120 change(s) not saved for 48.0 h")
    assert finding.message.endswith("expected a save within 24.0 h")


def test_an_old_save_without_changes_is_fine() -> None:
    snap = snapshot(rdb_last_save_time=int(NOW - 5 * 86400), rdb_changes_since_last_save=0)
    assert persistence_findings(snap, RedisExpectations()) == []


def test_rdb_schedule_from_config_or_info() -> None:
    assert rdb_schedule(snapshot({"save": ""})) is False
    assert rdb_schedule(snapshot({}, rdb_saves=0, rdb_last_bgsave_time_sec=-1)) is None
    assert rdb_schedule(snapshot({}, rdb_saves=3)) is True


# -- postgres ------------------------------------------------------------------------------------------


def archiver(**values: Any) -> ArchiverStatus:
    base: dict[str, Any] = {
        "archive_mode": "on",
        "archive_command": "cp %p /archive/%f",
        "archive_library": "",
        "archived_count": 10,
        "last_archived_wal": "00000001000000000000000A",
        "last_archived_at": NOW - 60,
        "failed_count": 0,
        "last_failed_wal": None,
        "last_failed_at": None,
        "server_now": NOW,
    }
    return ArchiverStatus(**{**base, **values})


def test_archiver_states() -> None:
    assert archiver_findings(archiver(), 3600) == []
    [off] = archiver_findings(archiver(archive_mode="off"), 3600)
    assert off.message == "archive_mode is off; expected on"
    [stale] = archiver_findings(archiver(last_archived_at=NOW - 7200), 3600)
    assert "was 2.0 h ago; expected one within the last 3600 s" in stale.message
    [never] = archiver_findings(archiver(archived_count=0, last_archived_at=None), 3600)
    assert never.message.startswith("no WAL segment was ever archived (archived_count 0)")
    earlier = archiver(failed_count=2, last_failed_at=NOW - 600)
    later = archiver(failed_count=5, last_failed_at=NOW - 600)
    assert archiver_findings(earlier, 3600) == []  # an old failure, recovered since
    [rising] = archiver_findings(later, 3600, previous=earlier)
    assert rising.message == "failed_count rose from 2 to 5; expected no new archive failures"
    [empty] = archiver_findings(archiver(archive_command=""), 3600)
    assert "archive_command and archive_library are empty" in empty.message


SEGMENT = 16 * 1024 * 1024


def test_an_idle_archiver_that_is_caught_up_passes_however_old_its_last_archive() -> None:
    idle = archiver(
        last_archived_at=NOW - 86_400,
        current_wal="00000001000000000000000B",  # the segment after the last archived one
        wal_segment_bytes=SEGMENT,
    )
    assert idle.segments_waiting == 0
    assert archiver_findings(idle, 3600) == []
    # Across a log boundary (16 MB segments: 256 per log).
    edge = archiver(
        last_archived_wal="0000000100000001000000FF",
        last_archived_at=NOW - 86_400,
        current_wal="000000010000000200000000",
        wal_segment_bytes=SEGMENT,
    )
    assert edge.segments_waiting == 0
    assert archiver_findings(edge, 3600) == []


def test_completed_segments_waiting_behind_an_old_archive_fail_naming_them() -> None:
    behind = archiver(
        last_archived_at=NOW - 7200,
        current_wal="00000001000000000000000E",
        wal_segment_bytes=SEGMENT,
    )
    assert behind.segments_waiting == 3
    [finding] = archiver_findings(behind, 3600)
    assert finding.message.startswith(
        "3 completed segment(s) wait to be archived (writing 00000001000000000000000E); "
        "last archived segment 00000001000000000000000A was 2.0 h ago"
    )
    # Segments waiting behind a recent archive: the archiver is working through them.
    assert archiver_findings(archiver(current_wal="00000001000000000000000E",
                                      wal_segment_bytes=SEGMENT), 3600) == []  # fmt: skip


@pytest.mark.parametrize(
    ("last", "current"),
    [
        ("00000001000000000000000A", None),  # a standby: the primary archives
        ("00000001000000000000000A", "00000002000000000000000B"),  # a new timeline
        ("00000002.history", "00000002000000000000000B"),
        ("00000001000000000000000A.partial", "00000002000000000000000B"),
    ],
)
def test_when_it_cannot_be_told_the_age_rule_judges(last: str, current: str | None) -> None:
    status = archiver(
        last_archived_wal=last,
        last_archived_at=NOW - 7200,
        current_wal=current,
        wal_segment_bytes=SEGMENT,
    )
    assert status.segments_waiting is None
    [stale] = archiver_findings(status, 3600)
    assert "was 2.0 h ago; expected one within the last 3600 s" in stale.message


def test_replica_lag_and_hidden_details() -> None:
    lagging = [Replica("replica-1", "10.0.0.7", "streaming", "async", 95.5)]
    [lag] = replication_findings(lagging, 1, 30)
    assert lag.message == "replay lag 95.5 s; expected at most 30 s"
    hidden = [Replica("replica-1", None, None, None, None)]
    [finding] = replication_findings(hidden, 1, 30)
    assert "grant it pg_monitor" in finding.message
    catching_up = [Replica("replica-1", "10.0.0.7", "catchup", "async", None)]
    [few] = replication_findings(catching_up, 1, 30)
    assert (
        few.message == "0 replica(s) streaming (replicas: replica-1=catchup); expected at least 1"
    )


@pytest.mark.parametrize(
    ("setting", "expected", "matches"),
    [
        (Setting("shared_buffers", "16384", "8kB", "128MB"), "128MB", True),
        (Setting("shared_buffers", "16384", "8kB", "128MB"), "131072kB", True),
        (Setting("shared_buffers", "16384", "8kB", "128MB"), "0.125GB", True),
        (Setting("shared_buffers", "16384", "8kB", "128MB"), "256MB", False),
        (Setting("work_mem", "4096", "kB", "4MB"), "4096", True),
        (Setting("statement_timeout", "2000", "ms", "2s"), "2000ms", True),
        (Setting("statement_timeout", "2000", "ms", "2s"), "2", False),
        (Setting("checkpoint_timeout", "300", "s", "5min"), "5min", True),
        (Setting("log_min_duration_statement", "-1", "ms", "-1"), "-1", True),
        (Setting("fsync", "on", None, "on"), "true", True),
        (Setting("fsync", "on", None, "on"), "off", False),
        (Setting("wal_level", "replica", None, "replica"), "'REPLICA'", True),
        (Setting("no_such", None), "x", False),
    ],
)
def test_setting_matches_understands_units(setting: Setting, expected: str, matches: bool) -> None:
    assert setting_matches(setting, expected) is matches


def test_privilege_keys() -> None:
    assert split_object("public.api_clients") == ("table", "public.api_clients")
    assert split_object("schema:public") == ("schema", "public")
    assert split_object("SEQUENCE: public.ids") == ("sequence", "public.ids")


# -- alerts and receivers ---------------------------------------------------------------------------


def test_firing_alerts_in_both_shapes() -> None:
    alerts: list[dict[str, Any]] = [
        {"labels": {"alertname": "A", "severity": "critical", "service": "gw"}, "state": "firing"},
        {"labels": {"alertname": "B", "severity": "critical", "service": "gw"}, "state": "pending"},
        {
            "labels": {"alertname": "C", "severity": "CRITICAL", "service": "gw"},
            "status": {"state": "active"},
        },
        {
            "labels": {"alertname": "D", "severity": "critical", "service": "gw"},
            "status": {"state": "suppressed"},
        },
        {
            "labels": {"alertname": "E", "severity": "critical", "service": "other"},
            "state": "firing",
        },
    ]
    names = [
        a["labels"]["alertname"] for a in firing_alerts(alerts, {"service": "gw"}, ["critical"])
    ]
    assert names == ["A", "C"]


def test_nested_routes_and_receivers_without_integrations() -> None:
    config = {
        "route": {
            "receiver": "default",
            "routes": [{"receiver": "team", "routes": [{"receiver": "pager"}]}],
        },
        "receivers": [
            {"name": "default"},
            {"name": "team", "slack_configs": [{}]},
            {"name": "pager", "pagerduty_configs": [{}]},
        ],
    }
    assert routed_receivers(config) == {"default", "team", "pager"}
    [finding] = receiver_findings(config, ["default", "pager"], ["pagerduty", "slack"])
    assert finding.subject == "alertmanager receiver default"
    assert "has no integration (no *_configs)" in finding.message


def managers(*urls: str) -> dict[str, Any]:
    return {"activeAlertmanagers": [{"url": f"{u}/api/v2/alerts"} for u in urls]}


PROFILE_AM = "https://alertmanager.example.com"
INTERNAL = "http://alertmanager-main.monitoring.svc:9093"
WATCHDOG = {"alertname": "Watchdog", "severity": "none"}


@pytest.mark.parametrize(
    ("link", "how"),
    [
        (
            AlertmanagerLink(managers("https://alertmanager.example.com:443"), PROFILE_AM),
            "the profile's [alertmanager] url",
        ),
        (
            AlertmanagerLink(
                managers(INTERNAL), PROFILE_AM, internal_urls=("alertmanager-main.monitoring.svc",)
            ),
            "[alertmanager] internal_urls 'alertmanager-main.monitoring.svc'",
        ),
        (
            AlertmanagerLink(
                managers("http://10.2.0.7:9093", "http://10.2.1.9:9093"),
                PROFILE_AM,
                internal_urls=("10.2.*:9093",),
            ),
            "[alertmanager] internal_urls '10.2.*:9093'",
        ),
        (
            AlertmanagerLink(
                managers("http://10.2.0.7:9093"), PROFILE_AM, peers=("10.2.0.7:9094",)
            ),
            "a peer of the cluster the profile's Alertmanager reports",
        ),
        (
            AlertmanagerLink(
                managers(INTERNAL),
                PROFILE_AM,
                peers=(),
                held=({**WATCHDOG, "cluster": "prod"},),
                firing=(WATCHDOG,),
            ),
            "the profile's Alertmanager holds alert Watchdog that Prometheus fires",
        ),
    ],
)
def test_the_profiles_alertmanager_is_recognised_by_what_both_report(
    link: AlertmanagerLink, how: str
) -> None:
    assert alertmanager_link_findings(link) == []
    recognised = identify_alertmanager(link)
    assert recognised is not None
    assert recognised[1] == how


def test_another_alertmanager_is_named_with_what_proves_it() -> None:
    undelivered = AlertmanagerLink(
        managers(INTERNAL), PROFILE_AM, peers=(), held=(), firing=(WATCHDOG,), settled=(WATCHDOG,)
    )
    young = AlertmanagerLink(managers(INTERNAL), PROFILE_AM, peers=(), held=(), firing=(WATCHDOG,))
    # An alert that began firing a moment ago may not have arrived yet: no proof either way.
    [unsure] = alertmanager_link_findings(young)
    assert "list that address in [alertmanager] internal_urls" in unsure.message
    [finding] = alertmanager_link_findings(undelivered)
    assert finding.check_id == "prometheus-alertmanager"
    assert finding.message == (
        f"sends alerts to {INTERNAL}/api/v2/alerts, but the profile's Alertmanager at "
        "alertmanager.example.com:443 holds none of the 1 alert(s) Prometheus fires (Watchdog); "
        "expected Prometheus to deliver its alerts to the profile's Alertmanager"
    )
    unknown = AlertmanagerLink(managers(INTERNAL), PROFILE_AM, problem="timed out")
    [why] = alertmanager_link_findings(unknown)
    assert "expected the profile's Alertmanager at alertmanager.example.com:443" in why.message
    assert "(could not ask it: timed out)" in why.message
    assert why.message.endswith("list that address in [alertmanager] internal_urls")
    assert alertmanager_link_findings(AlertmanagerLink(managers(INTERNAL))) == []


def test_only_alerts_firing_long_enough_to_be_delivered_count() -> None:
    alerts = [
        {
            "labels": {"alertname": "Old"},
            "state": "firing",
            "activeAt": "2027-01-15T08:00:00.123456789Z",
        },
        {"labels": {"alertname": "New"}, "state": "firing", "activeAt": "2027-01-15T08:09:30Z"},
        {
            "labels": {"alertname": "Pending"},
            "state": "pending",
            "activeAt": "2027-01-15T08:00:00Z",
        },
    ]
    now = 1_800_000_600.0  # 2027-01-15T08:10:00Z
    assert settled_firing(alerts, now) == ({"alertname": "Old"},)


# -- gates on synthetic data --------------------------------------------------------------------------


def spec(**values: Any) -> GateSpec:
    base: dict[str, Any] = {"name": "g", "query": "q", "condition": Condition.LT, "threshold": 1.0}
    return GateSpec(**{**base, **values})


def series(labels: dict[str, str], *values: str) -> dict[str, Any]:
    return {"metric": labels, "values": [[NOW + i, v] for i, v in enumerate(values)]}


def test_every_series_must_pass() -> None:
    result = [series({"pod": "a"}, "0.5", "0.6"), series({"pod": "b"}, "0.5", "1.5")]
    evaluation = evaluate_gate(spec(), result, NOW - 60, NOW)
    assert evaluation.outcome is GateOutcome.FAIL
    assert 'max was 1.5 for {pod="b"}' in evaluation.message


def test_a_series_without_data_follows_the_policy() -> None:
    result = [series({"pod": "a"}, "0.5"), series({"pod": "new"}, "NaN", "NaN")]
    failing = evaluate_gate(spec(), result, NOW - 60, NOW)
    assert failing.outcome is GateOutcome.FAIL
    assert "1 of 2 series had fewer than 1 usable point(s)" in failing.message
    passing = evaluate_gate(spec(no_data=NoDataPolicy.PASS), result, NOW - 60, NOW)
    assert passing.outcome is GateOutcome.PASS
    assert "1 series without data accepted by the no-data policy pass" in passing.message
    unsure = evaluate_gate(spec(no_data=NoDataPolicy.INCONCLUSIVE), result, NOW - 60, NOW)
    assert unsure.outcome is GateOutcome.INCONCLUSIVE


def test_all_and_any_report_the_points() -> None:
    result = [series({}, "0.5", "2", "3")]
    every = evaluate_gate(spec(aggregation=Aggregation.ALL), result, NOW - 60, NOW)
    assert every.outcome is GateOutcome.FAIL
    assert "2 of 3 points broke it for the series" in every.message
    some = evaluate_gate(spec(aggregation=Aggregation.ANY), result, NOW - 60, NOW)
    assert some.outcome is GateOutcome.PASS


def test_a_soak_verdict_counts_failures_as_declared() -> None:
    def evaluation(outcome: GateOutcome) -> GateEvaluation:
        return GateEvaluation("g", "q", NOW - 60, NOW, 60, 15, outcome, f"gate g: {outcome}")

    soak = spec(watch_s=600.0, failure_limit=1)
    runs = [evaluation(o) for o in (GateOutcome.FAIL, GateOutcome.PASS, GateOutcome.ERROR)]
    total = gate_verdict(soak, runs)
    assert total.outcome is GateOutcome.FAIL
    assert total.message.startswith(
        "2 of 3 evaluation(s) failed (longest run 1); limit 1 in total; last failure: gate g: error"
    )
    in_a_row = gate_verdict(
        spec(watch_s=600.0, failure_limit=1, count_failures=FailureCount.CONSECUTIVE), runs
    )
    assert in_a_row.outcome is GateOutcome.PASS
    assert gate_verdict(spec(), runs[:1]).outcome is GateOutcome.FAIL


def ready_made(name: str, labels: list[str] | None, **params: str) -> GateSpec:
    gate = build(MetricGate, {"name": name, "params": {"selector": 'job="gw"', **params}})
    return resolve_gate(gate, None, labels)


def test_the_error_rate_counts_absent_errors_as_zero_only_for_labelled_traffic() -> None:
    query = ready_made("error_rate", ["__name__", "job", "code"]).query
    assert query == (
        '(sum(rate(http_requests_total{job="gw",code=~"5.."}[5m])) or '
        '0 * sum(rate(http_requests_total{job="gw",code!=""}[5m]))) / '
        'sum(rate(http_requests_total{job="gw"}[5m]))'
    )


@pytest.mark.parametrize(
    ("labels", "params", "note", "asks"),
    [
        (None, {}, "status-code label 'status' assumed", True),
        (["job", "status"], {}, "status-code label 'status' detected on ", True),
        (["job", "status_code"], {}, "status-code label 'status_code' detected on ", True),
        ([], {}, "status-code label 'status' assumed: no http_requests_total{", True),
        (["job"], {}, "status-code label 'status' assumed: http_requests_total{", True),
        (None, {"status_label": "rc"}, "status-code label 'rc' from params.status_label", False),
        (
            None,
            {"error_matcher": 'code=~"5..|429"'},
            'failed requests selected by params.error_matcher code=~"5..|429"',
            False,
        ),
    ],
)
def test_the_status_code_label_and_what_is_said_about_it(
    labels: list[str] | None, params: dict[str, str], note: str, asks: bool
) -> None:
    resolved = ready_made("rollback_error_rate", labels, **params)
    [said] = resolved.notes
    assert said.startswith(note)
    assert (resolved.label_probe == 'http_requests_total{job="gw"}') is asks
    no_data = evaluate_gate(resolved, [], NOW - 300, NOW)
    assert no_data.outcome is GateOutcome.FAIL
    assert said in no_data.message
    if "error_matcher" not in params:
        assert no_data.message.endswith(
            "params.error_matcher) in the [[gates]] entry 'rollback_error_rate'"
        )
    assert ready_made("p95_latency", labels).notes == ()


@pytest.mark.parametrize(
    ("text", "seconds", "shown"),
    [("15m", 900, "15m"), ("1h30m", 5400, "1h30m"), (90, 90, "1m30s"), ("500ms", 0.5, "0.5s")],
)
def test_durations(text: str | int, seconds: float, shown: str) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == shown


@pytest.mark.parametrize("bad", ["", "15", "m", "-5m", "5 minutes", 0])
def test_bad_durations(bad: str | int) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


# -- the monitoring checks, declared once ----------------------------------------------------------

# Waivers and sign-offs name these: ids, titles, sections and severities stay as they were.
MONITORING_CHECKS = {
    "MON-PROM-READY": ("Prometheus is ready", "monitoring", "critical"),
    "MON-PROM-TARGETS": (
        "Scrape job present, every target up, one target per ready pod",
        "monitoring",
        "critical",
    ),
    "MON-PROM-RULES": ("Alert rules loaded and evaluating", "monitoring", "high"),
    "MON-PROM-ALERTMANAGER": ("Prometheus sends alerts to Alertmanager", "monitoring", "high"),
    "MON-ALERTS-FIRING": ("No critical alert firing for the service", "monitoring", "critical"),
    "MON-GATE": ("Metric gate holds over its window", "monitoring", "high"),
    "MON-AM-READY": ("Alertmanager is ready", "monitoring", "high"),
    "MON-AM-RECEIVERS": (
        "Alertmanager routes to the expected receivers (PagerDuty, Slack)",
        "monitoring",
        "high",
    ),
    "MON-GRAFANA-HEALTH": ("Grafana is healthy", "monitoring", "high"),
    "MON-GRAFANA-DASHBOARDS": (
        "Service dashboards exist and their data sources are healthy",
        "monitoring",
        "high",
    ),
    "MON-TRACES-RECENT": ("Recent traces of the service visible", "monitoring", "medium"),
    "MON-LOGS-RECENT": ("Recent logs of the service aggregated", "monitoring", "medium"),
    "SEC-LOGS-SECRETS": ("Recent logs contain no secrets or tokens", "security", "critical"),
}


def test_each_monitoring_check_is_declared_once_with_its_items_and_reads() -> None:
    modules = [prometheus_c, alertmanager_c, grafana_c, tracing_c, logs_c]
    components = [module.component for module in modules]
    specs = {spec.id: spec for component in components for spec in component.checks}
    assert {
        check_id: (spec.title, spec.section.value, spec.severity.value)
        for check_id, spec in specs.items()
    } == MONITORING_CHECKS
    reads = {f"{c.name}.{read}" for c in components for read in c.reads}
    items = set()
    for component in components:
        for module_name in component.checklist:
            module = importlib.import_module(module_name)
            for name, function in vars(module).items():
                spec = getattr(function, SPEC_ATTRIBUTE, None)
                if name.startswith("test_") and isinstance(spec, CheckSpec):
                    assert spec is specs[spec.id]
                    assert spec.components[0] == component.name, spec.id
                    items.add(spec.id)
    assert items == set(MONITORING_CHECKS)
    for spec in specs.values():
        assert set(spec.reads) <= reads, spec.id
