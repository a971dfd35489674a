"""Redis checks against real redis-servers: a healthy TLS-only cache passes every check, and each
defect (no password, plaintext port, persistence off, no memory limit, low hit rate, missing
replica, too few Sentinels, CONFIG disabled) fails exactly its check, saying observed vs expected;
a least-privilege monitoring login (an ACL user) reads what it may and reports what it may not as
"not verified: needs +<command> (ACL)".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from pytest_deployverify.checks.findings import Finding, summarize
from pytest_deployverify.checks.redis import (
    DEFAULT_PROBE_PREFIX,
    REDIS_READ_WRITE,
    REDIS_READ_WRITE_UNSCOPED,
    Persistence,
    RedisExpectations,
    RedisSentinelExpectations,
    ReplicationRole,
    TlsProbe,
    auth_findings,
    hit_rate,
    memory_findings,
    persistence_findings,
    read_write_findings,
    replication_findings,
    sentinel_findings,
    snapshot_summary,
    tls_findings,
)
from pytest_deployverify.components.redis import (
    RedisConfig,
    build_redis,
    probe_tls,
    probe_unauthenticated,
    read_sentinels,
    read_snapshot,
    tls_probe,
    write_probe,
)
from pytest_deployverify.components.registry import ComponentUnavailable, ReadError
from pytest_deployverify.profile.fields import NoDataPolicy
from pytest_deployverify.profile.schema import SchemaError, build
from sandbox.certs import CertFiles, make_certs
from sandbox.servers.redis import MONITOR_RULES, RedisServer, start_redis

from .stack import REDIS_PASSWORD, redis_config, start_sentinel, wait_for


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("redis-certs"))


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory, certs: CertFiles) -> Iterator[RedisServer]:
    """The healthy cache: password, TLS only, AOF and RDB on, maxmemory with LRU eviction."""
    server = start_redis(
        tmp_path_factory.mktemp("redis-tls"),
        password=REDIS_PASSWORD,
        tls=True,
        plaintext=False,
        certs=certs,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain_redis(
    tmp_path_factory: pytest.TempPathFactory, certs: CertFiles
) -> Iterator[RedisServer]:
    """TLS on one port but plaintext still open on another (the "plaintext not refused" defect)."""
    server = start_redis(
        tmp_path_factory.mktemp("redis-plain"),
        password=REDIS_PASSWORD,
        tls=True,
        plaintext=True,
        certs=certs,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def healthy_config(tls_redis: RedisServer) -> RedisConfig:
    return redis_config(
        f"rediss://127.0.0.1:{tls_redis.tls_port}/0",
        password=REDIS_PASSWORD,
        ca_file=str(tls_redis.ca_file),
        expect_tls=True,
    )


@pytest.fixture(scope="module")
def client(healthy_config: RedisConfig) -> Iterator[redis.Redis]:
    """The verifier's client, built exactly like the component fixture builds it."""
    built = build_redis(healthy_config)
    yield built
    built.close()


@pytest.fixture
def admin(tls_redis: RedisServer) -> Iterator[redis.Redis]:
    """The operator's client, for changing the server's state around a test."""
    handle = tls_redis.client(tls=True)
    yield handle
    handle.close()


def expect(**values: Any) -> RedisExpectations:
    return build(RedisExpectations, values)


def only(findings: list[Finding], check_id: str) -> list[Finding]:
    assert findings, "expected a finding"
    assert {f.check_id for f in findings} == {check_id}, summarize(findings)
    return findings


def test_healthy_cache_passes_every_check(
    healthy_config: RedisConfig, client: redis.Redis, admin: redis.Redis
) -> None:
    admin.set("dv:warm", "1")
    for _ in range(60):
        admin.get("dv:warm")
    expectations = expect(persistence="both", min_hit_samples=50)
    snap = read_snapshot(client)
    findings = [
        *auth_findings(probe_unauthenticated(healthy_config)),
        *tls_findings(tls_probe(healthy_config, snap)),
        *persistence_findings(snap, expectations),
        *memory_findings(snap, expectations),
        *replication_findings(snap, expect(role="master")),
    ]
    assert findings == [], summarize(findings)
    rate = hit_rate(snap, 0.9, 50, NoDataPolicy.FAIL)
    assert rate.status == "pass", rate.message
    assert snap.unreadable == ()
    summary = snapshot_summary(snap)
    assert summary["aof_enabled"] == 1
    assert summary["config"]["appendonly"] == "yes"
    assert REDIS_PASSWORD not in repr(summary)
    assert probe_tls(healthy_config).tls_version in ("TLSv1.2", "TLSv1.3")


def test_cache_without_password_accepts_anyone(tmp_path: Path) -> None:
    server = start_redis(tmp_path, password=None)
    try:
        config = redis_config(server.url)
        [finding] = only(auth_findings(probe_unauthenticated(config)), "redis-auth-required")
    finally:
        server.stop()
    assert "answered '+PONG' to a PING without credentials" in finding.message
    assert "expected NOAUTH" in finding.message


def test_unauthenticated_ping_is_refused_with_noauth(healthy_config: RedisConfig) -> None:
    reply = probe_unauthenticated(healthy_config)
    assert reply.tls
    assert reply.reply is not None
    assert reply.reply.startswith("-NOAUTH")


def test_plaintext_port_left_open_fails_tls(plain_redis: RedisServer) -> None:
    """The plaintext listener is found from what the server reports (INFO tcp_port), without the
    profile having to list the port."""
    assert plain_redis.port is not None
    config = redis_config(
        f"rediss://127.0.0.1:{plain_redis.tls_port}/0",
        password=REDIS_PASSWORD,
        ca_file=str(plain_redis.ca_file),
        expect_tls=True,
    )
    with build_redis(config) as client:
        snap = read_snapshot(client)
    probe = tls_probe(config, snap)
    assert probe.ports_from_server == (plain_redis.port,)
    assert probe.tls is not None
    assert probe.tls.answered
    [finding] = only(tls_findings(probe), "redis-tls")
    assert finding.subject == f"redis 127.0.0.1:{plain_redis.port}"
    assert "answers plaintext RESP ('-NOAUTH" in finding.message
    assert "the server reports it as its tcp_port" in finding.message
    assert "expected plaintext connections to be refused" in finding.message


def test_a_profile_listed_plaintext_port_is_probed_too(plain_redis: RedisServer) -> None:
    assert plain_redis.port is not None
    config = redis_config(
        f"rediss://127.0.0.1:{plain_redis.tls_port}/0",
        password=REDIS_PASSWORD,
        ca_file=str(plain_redis.ca_file),
        expect_tls=True,
        expect={"plaintext_ports": [plain_redis.port]},
    )
    probe = tls_probe(config)  # no snapshot: only the URL's port and the listed one
    assert not probe.plaintext[0].answered  # the TLS port itself refuses plaintext
    [finding] = only(tls_findings(probe), "redis-tls")
    assert finding.subject == f"redis 127.0.0.1:{plain_redis.port}"
    assert "tcp_port" not in finding.message


def test_healthy_tls_only_server_reports_no_plaintext_port(
    healthy_config: RedisConfig, client: redis.Redis
) -> None:
    probe = tls_probe(healthy_config, read_snapshot(client))
    assert probe.ports_from_server == ()
    assert tls_findings(probe) == []


def test_plaintext_url_when_tls_is_expected(plain_redis: RedisServer) -> None:
    config = redis_config(plain_redis.url, password=REDIS_PASSWORD, expect_tls=True)
    probe = TlsProbe(
        url_display=config.url.display,
        scheme=config.url.scheme,
        address=f"{config.url.host}:{config.url.port}",
        tls=None,
        plaintext=(),
    )
    [finding] = only(tls_findings(probe), "redis-tls")
    assert "the profile expects TLS but the URL is redis://:***@127.0.0.1" in finding.message
    assert REDIS_PASSWORD not in finding.message


def test_tls_with_an_untrusted_certificate(healthy_config: RedisConfig, certs: CertFiles) -> None:
    config = redis_config(
        healthy_config.url.get(), password=REDIS_PASSWORD, ca_file=str(certs.other_ca_cert)
    )
    [finding] = only(tls_findings(tls_probe(config)), "redis-tls")
    assert "no verified TLS session: TLS handshake failed: CERTIFICATE_VERIFY_FAILED" in (
        finding.message
    )


def test_persistence_off(client: redis.Redis, admin: redis.Redis) -> None:
    admin.config_set("appendonly", "no")
    admin.config_set("save", "")
    try:
        snap = read_snapshot(client)
        [anything] = only(persistence_findings(snap, expect()), "redis-persistence")
        both = persistence_findings(snap, expect(persistence="both"))
    finally:
        admin.config_set("save", "3600 1")
        admin.config_set("appendonly", "yes")
    assert anything.message == (
        "persistence is off: AOF off (aof_enabled:0) and no RDB schedule (save ''); "
        "expected AOF or an RDB save schedule"
    )
    assert [f.message for f in both] == [
        "AOF is off (aof_enabled:0); expected appendonly yes (persistence = both)",
        "RDB snapshots are off (save ''); expected a save schedule",
    ]
    assert persistence_findings(snap, expect(persistence="none")) == []


def test_managed_cache_without_config_is_judged_from_info(tmp_path: Path, certs: CertFiles) -> None:
    server = start_redis(
        tmp_path,
        password=REDIS_PASSWORD,
        tls=True,
        plaintext=False,
        rename_config=True,
        certs=certs,
    )
    try:
        handle = server.client(tls=True)
        snap = read_snapshot(handle)
        assert snap.config == {}
        assert "CONFIG GET refused" in snap.unreadable[0]
        assert persistence_findings(snap, expect()) == []  # AOF on, read from INFO
        assert memory_findings(snap, expect()) == []  # maxmemory and policy from INFO
        [unknown] = only(persistence_findings(snap, expect(persistence="rdb")), "redis-persistence")
        assert "RDB snapshots could not be confirmed" in unknown.message
        assert "CONFIG refused" in unknown.message
        handle.bgsave()  # an operator's snapshot: now INFO shows RDB in use
        wait_for(lambda: handle.info("persistence")["rdb_saves"] > 0, 10, "a BGSAVE")
        assert persistence_findings(read_snapshot(handle), expect(persistence="rdb")) == []
        handle.close()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("maxmemory", "0", "maxmemory is 0 (unlimited)"),
        ("maxmemory-policy", "noeviction", "maxmemory-policy is noeviction; expected one of"),
    ],
)
def test_memory_policy_defects(
    client: redis.Redis, admin: redis.Redis, setting: str, value: str, message: str
) -> None:
    before = str(admin.config_get(setting)[setting])
    admin.config_set(setting, value)
    try:
        [finding] = only(memory_findings(read_snapshot(client), expect()), "redis-memory")
    finally:
        admin.config_set(setting, before)
    assert message in finding.message


def test_memory_nearly_full(client: redis.Redis, admin: redis.Redis) -> None:
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory", str(int(used * 1.04)))
    try:
        [finding] = only(memory_findings(read_snapshot(client), expect()), "redis-memory")
    finally:
        admin.config_set("maxmemory", "64mb")
    assert "of maxmemory" in finding.message
    assert "expected under 90%" in finding.message


def test_low_hit_rate_and_no_traffic(client: redis.Redis, admin: redis.Redis) -> None:
    admin.config_resetstat()
    idle = read_snapshot(client)
    admin.set("dv:hit", "1")
    for index in range(90):
        admin.get(f"dv:miss:{index}")
    for _ in range(10):
        admin.get("dv:hit")
    busy = read_snapshot(client)

    low = hit_rate(busy, 0.9, 50, NoDataPolicy.FAIL)
    assert low.status == "fail"
    assert low.message == "hit rate 10.0% (10 hits, 90 misses); expected at least 90%"
    nothing = hit_rate(idle, 0.9, 50, NoDataPolicy.FAIL)
    assert nothing.status == "fail"
    assert "only 0 keyspace lookup(s)" in nothing.message
    assert "no-data policy: fail" in nothing.message
    assert hit_rate(idle, 0.9, 50, NoDataPolicy.INCONCLUSIVE).status == "inconclusive"
    assert hit_rate(idle, 0.9, 50, NoDataPolicy.PASS).status == "pass"


def test_replication_role_and_replicas(tmp_path: Path, plain_redis: RedisServer) -> None:
    assert plain_redis.port is not None
    replica = start_redis(tmp_path, password=REDIS_PASSWORD)
    try:
        handle = replica.client()
        master = plain_redis.client()
        # Diskless sync waits 5 s for more replicas by default; one is all this test has.
        master.config_set("repl-diskless-sync-delay", "0")
        handle.config_set("masterauth", REDIS_PASSWORD)
        handle.replicaof("127.0.0.1", plain_redis.port)
        wait_for(
            lambda: master.info("replication").get("slave0", {}).get("state") == "online",
            20,
            "the replica to come online",
        )
        wait_for(
            lambda: handle.info("replication").get("master_link_status") == "up", 20, "link up"
        )
        on_master, on_replica = read_snapshot(master), read_snapshot(handle)
        assert replication_findings(on_master, expect(role="master", min_replicas=1)) == []
        assert replication_findings(on_replica, expect(role=ReplicationRole.REPLICA.value)) == []
        [few] = only(replication_findings(on_master, expect(min_replicas=2)), "redis-replication")
        [role] = only(replication_findings(on_replica, expect(role="master")), "redis-replication")
        handle.replicaof("NO", "ONE")
        master.close()
        handle.close()
    finally:
        replica.stop()
    assert "1 online replica(s) (connected_slaves:1); expected at least 2" in few.message
    assert role.message == "role is slave; expected master"


def test_sentinel_quorum(tmp_path: Path, plain_redis: RedisServer) -> None:
    assert plain_redis.port is not None
    sentinel = start_sentinel(tmp_path, plain_redis.port, REDIS_PASSWORD)
    try:

        def sentinels(**values: Any) -> RedisSentinelExpectations:
            return build(
                RedisSentinelExpectations,
                {"addresses": [sentinel.address], "min_sentinels": 1, **values},
            )

        healthy = sentinels()
        readings = wait_for(
            lambda: [r for r in read_sentinels(healthy, 1.0) if r.quorum_ok] or None,
            15,
            "Sentinel to reach quorum",
        )
        assert sentinel_findings(readings, healthy) == []
        three = sentinels(min_sentinels=3)
        [few] = only(sentinel_findings(read_sentinels(three, 1.0), three), "redis-sentinel")
        wrong = sentinels(master="nosuchmaster")
        wrong_findings = sentinel_findings(read_sentinels(wrong, 1.0), wrong)
    finally:
        sentinel.stop()
    assert "1 Sentinel(s) monitor the master (1 of 1 configured answered); expected at least 3" in (
        few.message
    )
    assert any("No such master" in f.message for f in wrong_findings)
    refused = sentinels_refused()
    assert "could not be asked" in refused[0].message
    assert "connection refused" in refused[0].message


def sentinels_refused() -> list[Finding]:
    from tests.clients.blackhole import refused_port

    spec = build(
        RedisSentinelExpectations,
        {"addresses": [f"127.0.0.1:{refused_port()}"], "min_sentinels": 1},
    )
    return sentinel_findings(read_sentinels(spec, 0.5), spec)


def test_persistence_expectation_parses_from_profile_text() -> None:
    parsed = expect(persistence="AOF", plaintext_ports=[6379], hit_rate_no_data="inconclusive")
    assert parsed.persistence is Persistence.AOF
    assert parsed.plaintext_ports == (6379,)
    assert parsed.hit_rate_no_data is NoDataPolicy.INCONCLUSIVE


# -- a least-privilege monitoring login (ACL users) ------------------------------------------------

MONITOR_PASSWORD = "dv-test-monitor-pw-77c2"
ACL_USERS = {
    "monitor": (MONITOR_PASSWORD, MONITOR_RULES),
    # A login that may ping and read INFO but not CONFIG GET, and one that may only ping.
    "noconfig": (MONITOR_PASSWORD, "+ping +info"),
    "pingonly": (MONITOR_PASSWORD, "+ping"),
    # The monitoring login granted the write probe on its dedicated prefix only.
    "prober": (
        MONITOR_PASSWORD,
        f"{MONITOR_RULES} ~{DEFAULT_PROBE_PREFIX}* +set +get +pttl +del",
    ),
}


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(
        tmp_path_factory.mktemp("redis-acl"), password=REDIS_PASSWORD, acl_users=ACL_USERS
    )
    yield server
    server.stop()


def monitor_config(server: RedisServer, user: str, **values: Any) -> RedisConfig:
    assert server.port is not None
    return redis_config(
        f"redis://127.0.0.1:{server.port}/0",
        password=REDIS_PASSWORD,
        monitor_username=user,
        monitor_password=values.pop("monitor_password", MONITOR_PASSWORD),
        **values,
    )


def test_monitoring_login_reads_everything_it_needs(acl_redis: RedisServer) -> None:
    config = monitor_config(acl_redis, "monitor")
    with build_redis(config) as client:
        snap = read_snapshot(client)
    assert snap.login == "monitor"
    assert snap.unreadable == ()
    assert snap.config_refused is None
    assert snap.config["appendonly"] == "yes"
    assert persistence_findings(snap, expect(persistence="both")) == []
    assert memory_findings(snap, expect()) == []
    assert snapshot_summary(snap)["login"] == "monitor"
    assert MONITOR_PASSWORD not in repr(snap)


def test_a_command_the_monitoring_login_may_not_run_is_not_verified(
    acl_redis: RedisServer,
) -> None:
    """CONFIG GET refused by the ACL: "not verified: needs +config|get (ACL)", judged from INFO
    where it can be, and never called a rejected password."""
    config = monitor_config(acl_redis, "noconfig")
    with build_redis(config) as client:
        snap = read_snapshot(client)
    assert snap.config == {}
    assert snap.config_refused == "not verified: needs +config|get (ACL) for ACL user 'noconfig'"
    assert "CONFIG GET refused (not verified: needs +config|get (ACL)" in snap.unreadable[0]
    assert persistence_findings(snap, expect()) == []  # AOF on, read from INFO
    [unknown] = only(persistence_findings(snap, expect(persistence="rdb")), "redis-persistence")
    assert "not verified: needs +config|get (ACL)" in unknown.message
    assert "rejected the credentials" not in unknown.message


def test_info_refused_by_the_acl_is_a_read_error_not_a_rejected_login(
    acl_redis: RedisServer,
) -> None:
    config = monitor_config(acl_redis, "pingonly")
    with build_redis(config) as client, pytest.raises(ReadError) as raised:
        read_snapshot(client)
    message = str(raised.value)
    assert "not verified: needs +info (ACL) for ACL user 'pingonly'" in message
    assert "rejected the credentials" not in message


def test_a_wrong_monitoring_password_is_a_rejected_login(acl_redis: RedisServer) -> None:
    config = monitor_config(acl_redis, "monitor", monitor_password="dv-wrong-password-0000")
    with pytest.raises(ComponentUnavailable) as raised:
        build_redis(config)
    message = str(raised.value)
    assert "rejected the credentials" in message
    assert "monitor_username/monitor_password" in message
    assert "(login monitor)" in message
    assert "dv-wrong-password-0000" not in message


def test_monitoring_password_without_a_username_is_refused() -> None:
    with pytest.raises(SchemaError, match="monitor_password is set without monitor_username"):
        redis_config("redis://127.0.0.1:6379/0", monitor_password=MONITOR_PASSWORD)


# -- the cache read/write probe under a dedicated key prefix (issue 15) ---------------------------


def test_the_write_probe_writes_reads_back_and_deletes_only_its_key(
    client: redis.Redis, admin: redis.Redis
) -> None:
    before = admin.dbsize()
    probe = write_probe(client, "dv:probe:")
    assert read_write_findings(probe) == [], summarize(read_write_findings(probe))
    assert probe.key.startswith("dv:probe:")
    assert len(probe.key) == len("dv:probe:") + 16  # a random suffix
    assert (probe.written, probe.read_back, probe.deleted) == (True, True, 1)
    assert probe.ttl_left_ms is not None
    assert 0 < probe.ttl_left_ms <= 30_000
    assert probe.steps()[f"SET {probe.key} NX PX 30000"] == "OK"
    assert admin.exists(probe.key) == 0
    assert admin.dbsize() == before  # nothing left behind, nothing else touched


def test_a_cache_that_refuses_writes_fails_the_probe(tmp_path: Path) -> None:
    server = start_redis(tmp_path, password=REDIS_PASSWORD)
    try:
        admin = server.client()
        config = redis_config(f"redis://127.0.0.1:{server.port}/0", password=REDIS_PASSWORD)
        with build_redis(config) as verifier:
            assert read_write_findings(write_probe(verifier, "dv:probe:")) == []
            # Full under noeviction: writes are refused with OOM.
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", "1")
            [full] = only(
                read_write_findings(write_probe(verifier, "dv:probe:")), "redis-read-write"
            )
            admin.config_set("maxmemory", "0")
            # A master that must not write without a replica refuses with NOREPLICAS.
            admin.config_set("min-replicas-to-write", "1")
            [alone] = only(
                read_write_findings(write_probe(verifier, "dv:probe:")), "redis-read-write"
            )
        admin.close()
    finally:
        server.stop()
    assert "the write was refused: OOM command not allowed" in full.message
    assert full.subject.startswith("redis 127.0.0.1:")
    assert "the write was refused: NOREPLICAS" in alone.message


def test_the_monitoring_login_needs_the_probe_commands_on_the_prefix(
    acl_redis: RedisServer,
) -> None:
    with (
        build_redis(monitor_config(acl_redis, "monitor")) as verifier,
        pytest.raises(ReadError) as raised,
    ):
        write_probe(verifier, DEFAULT_PROBE_PREFIX)
    message = str(raised.value)
    assert "not verified: needs +set (ACL) for ACL user 'monitor'" in message
    assert f"+set +get +pttl +del on keys ~{DEFAULT_PROBE_PREFIX}*" in message
    with build_redis(monitor_config(acl_redis, "prober")) as verifier:
        probe = write_probe(verifier, DEFAULT_PROBE_PREFIX)
        assert read_write_findings(probe) == []
        assert probe.login == "prober"
        # The grant covers the prefix only: a probe elsewhere is not verified, never written.
        with pytest.raises(ReadError, match="not verified: needs"):
            write_probe(verifier, "app:")


def test_the_read_write_items_apply_as_the_profile_allows() -> None:
    from pytest_deployverify.components.catalog import profile_from_dict

    def profile(**expect_values: Any) -> Any:
        table = {"url": "redis://127.0.0.1:6379/0", "expect": expect_values}
        return profile_from_dict({"name": "cache", "redis": table})

    plain = profile()
    assert REDIS_READ_WRITE.not_applicable(plain) == (
        "[redis.expect] probe_key_prefix is not set in profile 'cache'"
    )
    assert "set it, or allow_write_probe = true" in str(
        REDIS_READ_WRITE_UNSCOPED.not_applicable(plain)
    )
    scoped = profile(probe_key_prefix="dv:probe:")
    assert REDIS_READ_WRITE.not_applicable(scoped) is None
    assert "probe_key_prefix is set" in str(REDIS_READ_WRITE_UNSCOPED.not_applicable(scoped))
    allowed = profile(allow_write_probe=True)
    assert REDIS_READ_WRITE_UNSCOPED.not_applicable(allowed) is None
    # Without a dedicated prefix the probe is destructive: held back on protected environments.
    assert (REDIS_READ_WRITE.destructive, REDIS_READ_WRITE_UNSCOPED.destructive) == (False, True)
    with pytest.raises(SchemaError, match="probe_key_prefix"):
        profile(probe_key_prefix="dv:*")


def _run_probe_items(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    server: RedisServer,
    *,
    protected: bool,
    expect_line: str,
) -> pytest.RunResult:
    monkeypatch.setenv("DV_REDIS_PASSWORD", REDIS_PASSWORD)
    monkeypatch.setenv("COLUMNS", "250")
    envs = pytester.path / "envs"
    envs.mkdir(exist_ok=True)
    (envs / "cache.toml").write_text(
        f"protected = {str(protected).lower()}\n\n[redis]\n"
        f'url = "rediss://127.0.0.1:{server.tls_port}/0"\n'
        f'password = "${{DV_REDIS_PASSWORD}}"\nca_file = "{server.ca_file}"\n'
        f"expect_tls = true\n\n[redis.expect]\n{expect_line}\n"
    )
    return pytester.runpytest(
        *("--env", "cache", "--env-dir", "envs", "-rsfE", "-p", "no:cacheprovider"),
        *("--checklist", "all", "-k", "test_redis_read_write"),
    )


def test_the_probe_items_run_as_the_profile_and_the_environment_allow(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tls_redis: RedisServer
) -> None:
    # A dedicated prefix: the read-only-safe probe runs, even on a protected environment.
    scoped = _run_probe_items(
        pytester, monkeypatch, tls_redis, protected=True, expect_line='probe_key_prefix = "dv:p:"'
    )
    scoped.assert_outcomes(passed=1, skipped=1)
    scoped.stdout.fnmatch_lines(["*not applicable: [[]redis.expect[]] probe_key_prefix is set*"])
    # No prefix, writing allowed: the destructive variant runs on an unprotected environment...
    allowed = _run_probe_items(
        pytester, monkeypatch, tls_redis, protected=False, expect_line="allow_write_probe = true"
    )
    allowed.assert_outcomes(passed=1, skipped=1)
    allowed.stdout.fnmatch_lines(["*probe_key_prefix is not set in profile 'cache'*"])
    # ...and is held back on a protected one.
    held = _run_probe_items(
        pytester, monkeypatch, tls_redis, protected=True, expect_line="allow_write_probe = true"
    )
    held.assert_outcomes(skipped=2)
    held.stdout.fnmatch_lines(["*destructive check held back: environment 'cache' is protected*"])
