#!/usr/bin/env bash
# Warm-up of a fresh worker, on each JDK: one worker, its class-data archive (JDK 17-24) or AOT cache (JDK 25+)
# made, then ROUNDS reloads; after each, the new worker's spawn-to-READY time (the master's log) and its
# requests/s in each of its first SECONDS seconds (wrk -t1 -c32, one-second runs back to back, starting as the
# reload completes), as a fraction of a warm worker's (a 5 s run at the end); and the worker's RSS after it all.
#
#   bench/warmup.sh                                   # the default java, and Temurin 25 if it is there
#   JDKS="/usr/lib/jvm/java-17-openjdk-amd64" bench/warmup.sh
#   ROUNDS=5 SECONDS_AFTER=8 bench/warmup.sh
#   CLUSTER_FLAGS='--warm-up-path=/' bench/warmup.sh  # other master flags: the warm-up on the measured route,
#   CLUSTER_FLAGS=--warm-up=0 bench/warmup.sh         # or none
#
# Installs wrk from apt if missing. Writes bench/results/warmup.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECONDS_AFTER=${SECONDS_AFTER:-5}
JAR=$(pwd)/master/target/master.jar
default_jdk=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
JDKS=${JDKS:-"$default_jdk /usr/lib/jvm/temurin-25-jdk-amd64"}

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk
[ -f "$JAR" ] || mvn -B -q package -DskipTests

tmp=$(mktemp -d)
MASTER=
# under set -e a failing command ends the trap too: the master may be gone already (it refused a flag, say)
trap 'if [ -n "$MASTER" ]; then kill -TERM "$MASTER" 2>/dev/null || true; fi; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
out=bench/results/warmup.txt
: >"$out"

rps() { # seconds port
    wrk -t1 -c32 -d"$1"s "http://127.0.0.1:$2/" | awk '/Requests\/sec/ { printf "%.0f\n", $2 }'
}

for jdk in $JDKS; do
    [ -x "$jdk/bin/java" ] || { echo "no $jdk/bin/java: skipped" >&2; continue; }
    version=$("$jdk/bin/java" -version 2>&1 | head -1)
    port=$(free_port)
    rm -rf "$tmp/run" "$tmp/cache"
    # its own cache, so each JDK makes its archive now, as a first deploy would
    PATH="$jdk/bin:$PATH" XDG_CACHE_HOME="$tmp/cache" java -jar "$JAR" --workers=1 --port="$port" ${CLUSTER_FLAGS:-} \
        --runtime-dir="$tmp/run" $AS_ROOT >"$tmp/cluster.log" 2>&1 &
    MASTER=$!
    for _ in $(seq 1 600); do grep -q "archive for workers ready" "$tmp/cluster.log" && break; sleep 0.1; done
    grep -q "archive for workers ready" "$tmp/cluster.log" || { echo "no archive with $version" >&2; cat "$tmp/cluster.log" >&2; exit 1; }
    rps 3 "$port" >/dev/null
    ready_ms=()
    per_second=()
    for r in $(seq 1 "$ROUNDS"); do
        gen=$((r + 1))
        PATH="$jdk/bin:$PATH" java -jar "$JAR" reload --runtime-dir="$tmp/run" >/dev/null
        for _ in $(seq 1 600); do grep -q "reload complete: generation $gen serving" "$tmp/cluster.log" && break; sleep 0.05; done
        line=""
        for s in $(seq 1 "$SECONDS_AFTER"); do line+="$(rps 1 "$port") "; done
        ms=$(grep -o "gen $gen) ready in [0-9]* ms" "$tmp/cluster.log" | tail -1 | grep -o "[0-9]* ms" | cut -d' ' -f1)
        ready_ms+=("$ms")
        per_second+=("$line")
        echo "$version round $r: READY in $ms ms; req/s by second: $line" >&2
    done
    steady=$(rps 5 "$port")
    worker=$(PATH="$jdk/bin:$PATH" java -jar "$JAR" status --json --runtime-dir="$tmp/run" | grep -o '"pid":[0-9]*' | sed -n 2p | cut -d: -f2)
    rss=$(($(awk '/VmRSS/ { print $2 }' "/proc/$worker/status") / 1024))
    master_rss=$(($(awk '/VmRSS/ { print $2 }' "/proc/$MASTER/status") / 1024))
    kill -TERM "$MASTER"; wait "$MASTER" || true; MASTER=
    {
        echo "$version"
        echo "  spawn to READY (ms), median of $ROUNDS: $(printf '%s\n' "${ready_ms[@]}" | median)"
        printf '  req/s in second'
        for s in $(seq 1 "$SECONDS_AFTER"); do
            m=$(for l in "${per_second[@]}"; do echo "$l" | awk -v s="$s" '{ print $s }'; done | median)
            printf ' %d: %.2f' "$s" "$(echo "$m / $steady" | bc -l)"
        done
        echo " of a warm worker's $steady"
        echo "  RSS after load: worker $rss MiB, master $master_rss MiB"
    } | tee -a "$out"
done
