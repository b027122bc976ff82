#!/usr/bin/env bash
# Install and run real PostgreSQL, Kafka (KRaft) and FerretDB servers on loopback
# for Pipeworks integration tests. No Docker needed. Run as root.
#
#   bash tests/services/services.sh install|start|stop|status|env|pg-stop|pg-start
#
# See tests/services/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CACHE="${PIPEWORKS_SERVICES_CACHE:-${HOME:-/root}/.cache/pipeworks-services}"
RUN="${PIPEWORKS_SERVICES_RUN:-/tmp/pipeworks-services}"

PG_PORT="${PIPEWORKS_PG_PORT:-55432}"
KAFKA_PORT="${PIPEWORKS_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${PIPEWORKS_KAFKA_CONTROLLER_PORT:-59093}"
MONGO_PORT="${PIPEWORKS_MONGO_PORT:-57017}"
PG_DB="${PIPEWORKS_PG_DB:-pipeworks}"

KAFKA_VERSION="${PIPEWORKS_KAFKA_VERSION:-4.4.0}"
LOG4J_VERSION="${PIPEWORKS_LOG4J_VERSION:-2.26.1}"
# kafka_2.13 brings slf4j-api 1.7.x, which cannot find the log4j-slf4j2 provider
# (the broker then logs nothing): force slf4j-api 2.x.
SLF4J_VERSION="${PIPEWORKS_SLF4J_VERSION:-2.0.17}"
DEPENDENCY_PLUGIN_VERSION="3.8.1"
KAFKA_HEAP="${PIPEWORKS_KAFKA_HEAP:--Xmx512m}"

START_TIMEOUT="${PIPEWORKS_SERVICES_START_TIMEOUT:-90}"  # seconds, per server
STOP_TIMEOUT="${PIPEWORKS_SERVICES_STOP_TIMEOUT:-30}"    # seconds before SIGKILL
PYTHON="${PYTHON:-python3}"

KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
FERRETDB_SRC="$SCRIPT_DIR/ferretdb"
FERRETDB_HOME="$CACHE/ferretdb"
FERRETDB_BIN="$FERRETDB_HOME/pipeworks-ferretdb"

PG_RUN="$RUN/postgres"
PG_DATA="$PG_RUN/data"
PG_SOCK="$PG_RUN/sock"
PG_LOG="$PG_RUN/postgres.log"
PG_PIDFILE="$RUN/postgres.pid"
KAFKA_RUN="$RUN/kafka"
KAFKA_LOG="$KAFKA_RUN/kafka.log"
KAFKA_PIDFILE="$RUN/kafka.pid"
MONGO_RUN="$RUN/ferretdb"
MONGO_LOG="$MONGO_RUN/ferretdb.log"
MONGO_PIDFILE="$RUN/ferretdb.pid"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

pg_bindir() {
    local initdb
    initdb="$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$initdb" ] || return 1
    dirname "$initdb"
}

hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- install ---

apt_install() {
    # apt-get update only when the plain install fails (stale or missing lists).
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get install $*"
    if ! apt-get install -y -q --no-install-recommends "$@" >"$CACHE/apt.log" 2>&1; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update -q >>"$CACHE/apt.log" 2>&1 || { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get update failed"; }
        apt-get install -y -q --no-install-recommends "$@" >>"$CACHE/apt.log" 2>&1 \
            || { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get install $* failed (log: $CACHE/apt.log)"; }
    fi
}

install_apt_packages() {
    local pkgs=()
    pg_bindir >/dev/null || pkgs+=(postgresql)
    command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || pkgs+=(maven)
    if [ "${PIPEWORKS_SERVICES_NO_CHROMIUM:-0}" != 1 ] && [ ! -x /usr/bin/chromium ]; then
        pkgs+=(chromium)
    fi
    [ "${#pkgs[@]}" -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${pkgs[*]}"
    apt_install "${pkgs[@]}"
    pg_bindir >/dev/null || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb"
}

write_kafka_pom() {
    cat >"$KAFKA_HOME/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tests/services/services.sh: fetches the Kafka broker jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pipeworks.tests</groupId>
  <artifactId>kafka-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>$DEPENDENCY_PLUGIN_VERSION</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
}

kafka_jars_complete() {
    local stamp="$KAFKA_HOME/complete" jar
    [ -f "$stamp" ] && [ -f "$KAFKA_HOME/pom.xml" ] || return 1
    [ "$(head -n 1 "$stamp")" = "$(hash_files "$KAFKA_HOME/pom.xml")" ] || return 1
    while IFS= read -r jar; do
        [ -s "$KAFKA_LIBS/$jar" ] || return 1
    done < <(tail -n +2 "$stamp")
    [ -s "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]
}

install_kafka() {
    mkdir -p "$KAFKA_HOME"
    # Rewrite the pom only when its content changes (keeps the stamp valid).
    write_kafka_pom
    if kafka_jars_complete; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found"
    log "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS"
    rm -rf "$KAFKA_LIBS" "$KAFKA_HOME/complete"
    (cd "$KAFKA_HOME" && mvn -q -B \
        -Dmaven.repo.local="$CACHE/m2" \
        dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS") >"$KAFKA_HOME/mvn.log" 2>&1 \
        || { tail -n 30 "$KAFKA_HOME/mvn.log" >&2; die "mvn dependency:copy-dependencies failed (log: $KAFKA_HOME/mvn.log)"; }
    [ -s "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Kafka jar missing after mvn"
    { hash_files "$KAFKA_HOME/pom.xml"; (cd "$KAFKA_LIBS" && ls -1 -- *.jar); } >"$KAFKA_HOME/complete"
}

ferretdb_src_hash() {
    local files=("$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.mod")
    [ -f "$FERRETDB_SRC/go.sum" ] && files+=("$FERRETDB_SRC/go.sum")
    hash_files "${files[@]}"
}

install_ferretdb() {
    local want
    want="$(ferretdb_src_hash)"
    if [ -x "$FERRETDB_BIN" ] && [ -f "$FERRETDB_BIN.hash" ] && [ "$(cat "$FERRETDB_BIN.hash")" = "$want" ]; then
        return 0
    fi
    command -v go >/dev/null || die "go not found (Go 1.24+ is needed to build FerretDB)"
    log "building FerretDB wrapper with go build into $FERRETDB_BIN"
    local build="$FERRETDB_HOME/src"
    rm -rf "$build"
    mkdir -p "$build"
    cp "$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.mod" "$build/"
    [ -f "$FERRETDB_SRC/go.sum" ] && cp "$FERRETDB_SRC/go.sum" "$build/"
    (cd "$build" && \
        GOFLAGS="-mod=mod -modcacherw -buildvcs=false" \
        GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" \
        go build -trimpath -o "$FERRETDB_BIN.new" .) >"$FERRETDB_HOME/build.log" 2>&1 \
        || { tail -n 30 "$FERRETDB_HOME/build.log" >&2; die "go build of FerretDB failed (log: $FERRETDB_HOME/build.log)"; }
    mv -f "$FERRETDB_BIN.new" "$FERRETDB_BIN"
    printf '%s\n' "$want" >"$FERRETDB_BIN.hash"
}

cmd_install() {
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.install.lock"
    flock 9
    local t0=$SECONDS
    install_apt_packages
    install_kafka
    install_ferretdb
    flock -u 9
    exec 9>&-  # servers started later must not inherit the lock file
    log "install done in $((SECONDS - t0)) s (cache: $CACHE)"
}

# ---------------------------------------------------------------- helpers ---

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# True if process $1 is alive and its command line contains $2: a pid file left by
# a killed server may name a pid that is now reused by an unrelated process.
pid_is() {
    pid_alive "$1" && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

read_pid() { [ -s "$1" ] && head -n 1 "$1" || true; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_log_tail() {
    local name="$1" file="$2"
    printf '[services] ---- last lines of %s log (%s) ----\n' "$name" "$file" >&2
    if [ -f "$file" ]; then tail -n 40 "$file" >&2; else echo "(no log file)" >&2; fi
    printf '[services] ----\n' >&2
}

fail_start() {
    local name="$1" file="$2" why="$3"
    printf '[services] ERROR: %s did not come up: %s\n' "$name" "$why" >&2
    show_log_tail "$name" "$file"
    if [ "${STOP_ALL_ON_FAILURE:-0}" = 1 ]; then
        log "stopping the services started so far (logs stay in $RUN)"
        STOP_ALL_ON_FAILURE=0
        cmd_stop || true
    fi
    exit 1
}

require_port_free() {
    local name="$1" port="$2"
    if port_open "$port"; then
        die "$name: 127.0.0.1:$port is already in use by another process (set the PIPEWORKS_*_PORT variables to move it)"
    fi
}

# Start a command detached (own session), logging to $log, pid in $pidfile.
spawn() {
    local pidfile="$1" logfile="$2"; shift 2
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >"$logfile" 2>&1 8>&- &
    local i
    for i in $(seq 1 50); do
        [ -s "$pidfile" ] && return 0
        sleep 0.1
    done
    return 1
}

# SIGTERM, then SIGKILL after STOP_TIMEOUT. $3: a string of the server's command line.
stop_pid() {
    local name="$1" pidfile="$2" ident="$3" pid i
    pid="$(read_pid "$pidfile")"
    if pid_alive "$pid" && ! pid_is "$pid" "$ident"; then
        log "$name: pid $pid in $pidfile is not ours (stale pid file); not signalling it"
    elif pid_alive "$pid"; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 $((STOP_TIMEOUT * 10))); do
            pid_alive "$pid" || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            log "$name did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for i in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
        fi
    fi
    rm -f "$pidfile"
}

# ------------------------------------------------------------- postgresql ---

pg_ctl_() { runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$PG_DATA" "$@"; }

pg_postmaster_pid() { read_pid "$PG_DATA/postmaster.pid"; }

# A postmaster.pid left by a killed server may name a reused pid: check it is our postgres.
pg_running() {
    local pid
    pid="$(pg_postmaster_pid)"
    pid_is "$pid" "$PG_DATA" && pg_ctl_ status >/dev/null 2>&1
}

pg_wait_ready() {
    local bindir deadline=$((SECONDS + START_TIMEOUT))
    bindir="$(pg_bindir)"
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; do
        [ -f "$PG_DATA/postmaster.pid" ] || fail_start postgres "$PG_LOG" "server process exited"
        [ "$SECONDS" -lt "$deadline" ] || fail_start postgres "$PG_LOG" "not ready after ${START_TIMEOUT}s"
        sleep 0.2
    done
}

pg_start_server() {
    require_port_free postgres "$PG_PORT"
    # pg_ctl -w waits for readiness itself; pg_isready below double-checks TCP.
    # After a postmaster was killed, its socket lock file names its pid until that
    # zombie is reaped: retry a few times on "lock file ... already exists".
    local try
    for try in 1 2 3 4 5 6; do
        if pg_ctl_ -l "$PG_LOG" -w -t "$START_TIMEOUT" start >"$PG_RUN/pg_ctl.log" 2>&1 8>&-; then
            break
        fi
        if [ "$try" -lt 6 ] && tail -n 5 "$PG_LOG" | grep -q 'lock file .* already exists'; then
            sleep 2
            continue
        fi
        cat "$PG_RUN/pg_ctl.log" >&2 || true
        fail_start postgres "$PG_LOG" "pg_ctl start failed"
    done
    pg_wait_ready
    head -n 1 "$PG_DATA/postmaster.pid" >"$PG_PIDFILE"
}

start_postgres() {
    local bindir
    bindir="$(pg_bindir)" || die "PostgreSQL is not installed; run install"
    local t0=$SECONDS
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    rm -rf "$PG_RUN"
    mkdir -p "$PG_DATA" "$PG_SOCK"
    chown -R postgres:postgres "$PG_RUN"
    chmod 700 "$PG_DATA"
    runuser -u postgres -- test -w "$PG_DATA" \
        || die "user postgres cannot write $PG_DATA (is $RUN under a directory only root can enter?)"
    # initdb refuses to run as root.
    runuser -u postgres -- "$bindir/initdb" -D "$PG_DATA" -U postgres \
        --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions --no-sync >"$PG_RUN/initdb.log" 2>&1 \
        || { cat "$PG_RUN/initdb.log" >&2; die "initdb failed"; }
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- Pipeworks test server (tests/services/services.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    pg_start_server
    "$bindir/psql" -q -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE \"$PG_DB\"" >/dev/null \
        || fail_start postgres "$PG_LOG" "CREATE DATABASE $PG_DB failed"
    log "PostgreSQL up (pid $(cat "$PG_PIDFILE"), $((SECONDS - t0)) s)"
}

stop_postgres() {
    local pid
    if [ -f "$PG_DATA/postmaster.pid" ] && pg_bindir >/dev/null; then
        if pg_running; then
            log "stopping PostgreSQL"
            if ! pg_ctl_ stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1 && pg_running; then
                log "fast shutdown failed; trying immediate"
                pg_ctl_ stop -m immediate -w -t "$STOP_TIMEOUT" >/dev/null 2>&1 || true
            fi
        fi
        pid="$(pg_postmaster_pid)"
        if pid_is "$pid" "$PG_DATA"; then
            log "PostgreSQL (pid $pid) still running; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
        pid_is "$pid" "$PG_DATA" || rm -f "$PG_DATA/postmaster.pid"  # stale after a kill
    fi
    rm -f "$PG_PIDFILE"
}

cmd_pg_stop() { stop_postgres; }

cmd_pg_start() {
    [ -f "$PG_DATA/PG_VERSION" ] || die "no PostgreSQL data in $PG_DATA; run start first"
    if pg_running; then
        log "PostgreSQL already running"
        return 0
    fi
    rm -f "$PG_DATA/postmaster.pid"  # stale (not our running postgres)
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT (keeping data)"
    pg_start_server
    log "PostgreSQL up (pid $(cat "$PG_PIDFILE"))"
}

# ------------------------------------------------------------------ kafka ---

# For short-lived Kafka tools: C1 only and serial GC halve the JVM start (5 s -> 2.5 s).
kafka_java() {
    java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.xml" \
        -cp "$KAFKA_LIBS/*" "$@"
}

start_kafka() {
    kafka_jars_complete || die "Kafka jars are missing; run install"
    command -v java >/dev/null || die "java not found"
    require_port_free kafka "$KAFKA_PORT"
    require_port_free kafka-controller "$KAFKA_CONTROLLER_PORT"
    local t0=$SECONDS
    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
    rm -rf "$KAFKA_RUN"
    mkdir -p "$KAFKA_RUN/data"
    cat >"$KAFKA_RUN/server.properties" <<EOF
# Single-node KRaft broker+controller for Pipeworks tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_RUN/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=104857600
EOF
    cat >"$KAFKA_RUN/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="STDOUT"/></Root>
  </Loggers>
</Configuration>
EOF
    # Same format as `kafka.tools.StorageTool random-uuid`, without a JVM start.
    local cluster_id
    cluster_id="$("$PYTHON" -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())')"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_RUN/server.properties" \
        >"$KAFKA_RUN/storage.log" 2>&1 \
        || fail_start kafka "$KAFKA_RUN/storage.log" "StorageTool format failed"
    # shellcheck disable=SC2086
    spawn "$KAFKA_PIDFILE" "$KAFKA_LOG" java $KAFKA_HEAP -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.xml" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_RUN/server.properties" \
        || fail_start kafka "$KAFKA_LOG" "could not spawn the JVM"
    "$PYTHON" - "127.0.0.1:$KAFKA_PORT" "$(cat "$KAFKA_PIDFILE")" "$START_TIMEOUT" <<'EOF' \
        || fail_start kafka "$KAFKA_LOG" "not ready (see above)"
import os, sys, time
bootstrap, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
from kafka import KafkaAdminClient
from kafka.errors import KafkaConfigurationError
deadline = time.monotonic() + timeout
last = None
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print("[services] kafka process %d exited" % pid, file=sys.stderr)
        sys.exit(1)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000,
                                 bootstrap_timeout_ms=3000, client_id="services-check")
        try:
            admin.list_topics()
        finally:
            admin.close()
        sys.exit(0)
    except KafkaConfigurationError:
        raise
    except Exception as exc:  # not up yet
        last = exc
        time.sleep(0.5)
print("[services] kafka not ready after %.0fs: %r" % (timeout, last), file=sys.stderr)
sys.exit(1)
EOF
    log "Kafka up (pid $(cat "$KAFKA_PIDFILE"), $((SECONDS - t0)) s)"
}

stop_kafka() { stop_pid kafka "$KAFKA_PIDFILE" "$KAFKA_RUN/server.properties"; }

# --------------------------------------------------------------- ferretdb ---

start_ferretdb() {
    [ -x "$FERRETDB_BIN" ] || die "FerretDB binary missing; run install"
    require_port_free ferretdb "$MONGO_PORT"
    local t0=$SECONDS
    log "starting FerretDB on 127.0.0.1:$MONGO_PORT"
    rm -rf "$MONGO_RUN"
    mkdir -p "$MONGO_RUN/data"
    spawn "$MONGO_PIDFILE" "$MONGO_LOG" "$FERRETDB_BIN" \
        -listen-addr "127.0.0.1:$MONGO_PORT" -sqlite-dir "$MONGO_RUN/data/" \
        || fail_start ferretdb "$MONGO_LOG" "could not spawn"
    "$PYTHON" - "mongodb://127.0.0.1:$MONGO_PORT/" "$(cat "$MONGO_PIDFILE")" "$START_TIMEOUT" <<'EOF' \
        || fail_start ferretdb "$MONGO_LOG" "not ready (see above)"
import os, sys, time
url, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
from pymongo import MongoClient
from pymongo.errors import ConfigurationError
deadline = time.monotonic() + timeout
last = None
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print("[services] ferretdb process %d exited" % pid, file=sys.stderr)
        sys.exit(1)
    try:
        client = MongoClient(url, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)
        try:
            client.admin.command("ping")
        finally:
            client.close()
        sys.exit(0)
    except ConfigurationError:
        raise
    except Exception as exc:  # not up yet
        last = exc
        time.sleep(0.3)
print("[services] ferretdb not ready after %.0fs: %r" % (timeout, last), file=sys.stderr)
sys.exit(1)
EOF
    log "FerretDB up (pid $(cat "$MONGO_PIDFILE"), $((SECONDS - t0)) s)"
}

stop_ferretdb() { stop_pid ferretdb "$MONGO_PIDFILE" "$MONGO_RUN/data/"; }

# --------------------------------------------------------------- commands ---

cmd_stop() {
    stop_ferretdb
    stop_kafka
    stop_postgres
}

cmd_start() {
    local t0=$SECONDS
    "$PYTHON" -c 'import kafka, pymongo' 2>/dev/null \
        || die "$PYTHON cannot import kafka (kafka-python) and pymongo, used for the health checks: pip install -r requirements-dev.txt"
    cmd_install
    # Fresh each start: stop what a previous start left, then wipe its data.
    cmd_stop
    mkdir -p "$RUN"
    chmod 755 "$RUN"
    # Check every port before starting anything.
    require_port_free postgres "$PG_PORT"
    require_port_free kafka "$KAFKA_PORT"
    require_port_free kafka-controller "$KAFKA_CONTROLLER_PORT"
    require_port_free ferretdb "$MONGO_PORT"
    STOP_ALL_ON_FAILURE=1
    start_postgres
    start_kafka
    start_ferretdb
    STOP_ALL_ON_FAILURE=0
    log "all services up in $((SECONDS - t0)) s; runtime dir $RUN"
}

cmd_status() {
    local down=0 pid
    if pg_bindir >/dev/null && "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; then
        echo "postgres: up   127.0.0.1:$PG_PORT (pid $(read_pid "$PG_DATA/postmaster.pid"))"
    else
        echo "postgres: down 127.0.0.1:$PG_PORT"; down=1
    fi
    pid="$(read_pid "$KAFKA_PIDFILE")"
    if pid_is "$pid" "$KAFKA_RUN/server.properties" && port_open "$KAFKA_PORT"; then
        echo "kafka:    up   127.0.0.1:$KAFKA_PORT (pid $pid)"
    else
        echo "kafka:    down 127.0.0.1:$KAFKA_PORT"; down=1
    fi
    pid="$(read_pid "$MONGO_PIDFILE")"
    if pid_is "$pid" "$MONGO_RUN/data/" && port_open "$MONGO_PORT"; then
        echo "ferretdb: up   127.0.0.1:$MONGO_PORT (pid $pid)"
    else
        echo "ferretdb: down 127.0.0.1:$MONGO_PORT"; down=1
    fi
    return "$down"
}

cmd_env() {
    echo "export PIPEWORKS_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/$PG_DB"
    echo "export PIPEWORKS_MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT/"
    echo "export PIPEWORKS_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
}

usage() {
    cat >&2 <<EOF
usage: $0 install|start|stop|status|env|pg-stop|pg-start
  install   install/build what is missing (cache: $CACHE)
  start     install if needed, then start PostgreSQL, Kafka and FerretDB fresh (run dir: $RUN)
  stop      stop all three (idempotent)
  status    print each service up/down; exit 1 if any is down
  env       print export lines for PIPEWORKS_DATABASE_URL, PIPEWORKS_MONGO_URL, PIPEWORKS_KAFKA_BOOTSTRAP
  pg-stop   stop only PostgreSQL, keeping its data
  pg-start  start PostgreSQL again on the data of the last start
EOF
    exit 2
}

# Serialise start/stop/pg-* on one run dir (fd 8; closed in every server we launch).
run_lock() {
    mkdir -p "$RUN"
    exec 8>"$RUN/.lock"
    flock -w 600 8 || die "another services.sh holds $RUN/.lock"
}

case "${1:-}" in
    start | stop | pg-stop | pg-start) run_lock ;;
esac

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    pg-stop) cmd_pg_stop ;;
    pg-start) cmd_pg_start ;;
    *) usage ;;
esac
