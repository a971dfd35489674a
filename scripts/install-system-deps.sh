#!/usr/bin/env bash
# Install the Debian packages the sandbox and the integration tests use (Debian 12, as root,
# no systemd needed). Idempotent: when everything is present it exits without touching apt.
#
# The project starts every server itself on free loopback ports (sandbox/servers/); the
# packages' own services are neither wanted nor relied on, so package scripts are told not to
# start them (policy-rc.d), and any daemon a postinst started anyway is stopped by its pidfile.
#
# Environment: DEPLOYVERIFY_NO_BROWSER=1 skips chromium (only the HTML report test needs it).
set -euo pipefail

PACKAGES=(
    redis-server redis-tools
    prometheus prometheus-alertmanager
    nginx-light
    postgresql
    unbound
    openssl ca-certificates
)
if [[ "${DEPLOYVERIFY_NO_BROWSER:-0}" != "1" ]]; then
    PACKAGES+=(chromium)
fi

log() { printf 'install-system-deps: %s\n' "$*" >&2; }

package_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

postgres_binary_present() {
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        package_installed "$pkg" || printf '%s\n' "$pkg"
    done
}

binaries_present() {
    local bin
    for bin in redis-server redis-cli prometheus promtool prometheus-alertmanager nginx unbound unbound-checkconf openssl; do
        PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null || return 1
    done
    if [[ "${DEPLOYVERIFY_NO_BROWSER:-0}" != "1" ]]; then
        command -v chromium >/dev/null || return 1
    fi
    postgres_binary_present
}

# --- stop daemons a package script may have started ---------------------------------------

# stop_by_pidfile FILE NAME...: stop the process in FILE if its command name is one of NAMEs
# (guards against a stale pidfile whose PID now belongs to something else).
stop_by_pidfile() {
    local pidfile=$1
    shift
    [[ -r "$pidfile" ]] || return 0
    local pid comm
    pid=$(head -n 1 "$pidfile" | tr -dc '0-9')
    [[ -n "$pid" ]] || return 0
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    [[ -n "$comm" ]] || return 0
    local name match=0
    for name in "$@"; do
        # /proc/PID/comm is cut at 15 characters ("prometheus-aler").
        [[ "$name" == "$comm"* ]] && match=1
    done
    [[ "$match" == 1 ]] || return 0
    log "stopping $comm (pid $pid from $pidfile) started by a package script"
    kill -TERM "$pid" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do
        [[ -d "/proc/$pid" ]] || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_autostarted_services() {
    stop_by_pidfile /run/redis/redis-server.pid redis-server
    stop_by_pidfile /run/nginx.pid nginx
    stop_by_pidfile /run/prometheus/prometheus.pid prometheus
    stop_by_pidfile /run/prometheus/prometheus-alertmanager.pid prometheus-alertmanager alertmanager
    stop_by_pidfile /run/unbound.pid unbound
    local pidfile
    for pidfile in /run/postgresql/*.pid /var/lib/postgresql/*/main/postmaster.pid; do
        [[ -e "$pidfile" ]] && stop_by_pidfile "$pidfile" postgres
    done
    return 0
}

# --- policy-rc.d: forbid service starts during the install, then restore what was there ------

POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""

forbid_service_starts() {
    if [[ -e "$POLICY" ]]; then
        POLICY_BACKUP=$(mktemp /tmp/policy-rc.d.backup.XXXXXX)
        cp -p "$POLICY" "$POLICY_BACKUP"
    fi
    trap restore_policy EXIT
    printf '#!/bin/sh\n# written by install-system-deps.sh for the duration of the install\nexit 101\n' \
        >"$POLICY"
    chmod 0755 "$POLICY"
}

restore_policy() {
    if [[ -n "$POLICY_BACKUP" ]]; then
        mv -f "$POLICY_BACKUP" "$POLICY"
    else
        rm -f "$POLICY"
    fi
}

# --- main --------------------------------------------------------------------------------------

mapfile -t MISSING < <(missing_packages)

if [[ ${#MISSING[@]} -eq 0 ]] && binaries_present; then
    log "all system packages present; nothing to do"
    exit 0
fi
if [[ ${#MISSING[@]} -eq 0 ]]; then
    # dpkg says installed but a binary is gone: reinstall everything to repair it.
    MISSING=("${PACKAGES[@]}")
fi

if [[ "$(id -u)" -ne 0 ]]; then
    log "missing: ${MISSING[*]}"
    log "run this script as root (e.g. sudo $0) to install them with apt-get"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=300 -y -q)

forbid_service_starts
log "installing: ${MISSING[*]}"
# The lists are refreshed only here, i.e. only when something has to be installed.
"${APT[@]}" update
"${APT[@]}" install --no-install-recommends "${MISSING[@]}"
stop_autostarted_services

if ! binaries_present; then
    log "packages installed but some binaries are still missing; check the apt output above"
    exit 1
fi
log "done"
