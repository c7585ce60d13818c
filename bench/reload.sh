#!/usr/bin/env bash
# Reload under load: wrk runs against the cluster while it is reloaded 10 times (SIGHUP, each waiting for the
# previous reload to complete); prints requests/s, socket errors and non-2xx during the reloads, next to a steady
# run of the same length, and their ratio.
#
#   bench/reload.sh                      # 2 workers, 10 reloads back to back, wrk -t1 -c64
#   INTERVAL=3 bench/reload.sh           # one reload every 3 s instead (the run lasts RELOADS x INTERVAL + 2 s)
#   WORKERS=4 RELOADS=5 bench/reload.sh
#   WORKER_JVM_OPTS='-XX:+UseSerialGC -Xmx256m -XX:TieredStopAtLevel=1' bench/reload.sh   # other worker JVM flags
#   CLUSTER_FLAGS='--slow-start=3s' bench/reload.sh                                        # other master flags
#   PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH bench/reload.sh                       # on another JDK
#
# Installs wrk (and bc) from apt if missing. Writes bench/results/reload-back-to-back.txt or reload-every-Ns.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
RELOADS=${RELOADS:-10}
INTERVAL=${INTERVAL:-0}
CONNS=${CONNS:-64}
JAR=master/target/master.jar

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk bc
[ -f "$JAR" ] || mvn -B -q package -DskipTests

tmp=$(mktemp -d)
PORT=$(free_port)
extra=()
[ -n "${WORKER_JVM_OPTS:-}" ] && extra+=("--worker-jvm-opts=$WORKER_JVM_OPTS")
# shellcheck disable=SC2206
[ -n "${CLUSTER_FLAGS:-}" ] && extra+=($CLUSTER_FLAGS)
java -jar "$JAR" --workers="$WORKERS" --port="$PORT" --runtime-dir="$tmp/run" $AS_ROOT "${extra[@]}" >"$tmp/cluster.log" 2>&1 &
MASTER=$!
# under set -e a failing command ends the trap too: the master may be gone already (it refused a flag, say)
trap 'kill -TERM "$MASTER" 2>/dev/null || true; wait "$MASTER" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 300); do grep -q "ready: " "$tmp/cluster.log" && break; sleep 0.1; done
# every new worker of the run starts from the class-data archive (AOT cache on JDK 25+), made in the background
for _ in $(seq 1 600); do grep -q "archive for workers ready" "$tmp/cluster.log" && break; sleep 0.1; done

completed() { grep -c "reload complete" "$tmp/cluster.log" || true; }

run_wrk() { # seconds -> "rps errors non2xx"
    wrk -t1 -c"$CONNS" -d"$1"s "http://127.0.0.1:$PORT/" | awk '
        /Requests\/sec/ { rps = $2 }
        /Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
        /Non-2xx/ { n = $NF }
        END { printf "%.0f %d %d\n", rps, e + 0, n + 0 }'
}

echo "warming up..." >&2
run_wrk 5 >/dev/null
# time one reload to size the runs
start=$(date +%s.%N); kill -HUP $MASTER
until [ "$(completed)" -ge 1 ]; do sleep 0.05; done
per=$(echo "$(date +%s.%N) - $start" | bc)
if [ "$INTERVAL" = 0 ]; then
    DURATION=$(printf '%.0f' "$(echo "$per * $RELOADS + 3" | bc)")
else
    DURATION=$((RELOADS * INTERVAL + 2))
fi
echo "one reload takes ${per}s; runs of ${DURATION}s" >&2

read -r steady_rps steady_err steady_non <<<"$(run_wrk "$DURATION")"

base=$(completed)
run_wrk "$DURATION" >"$tmp/during" &
WRK=$!
sleep 1
t0=$(date +%s.%N)
for i in $(seq 1 "$RELOADS"); do
    if [ "$INTERVAL" != 0 ]; then
        wait_s=$(echo "$t0 + ($i - 1) * $INTERVAL - $(date +%s.%N)" | bc)
        [ "$(echo "$wait_s > 0" | bc)" = 1 ] && sleep "$wait_s"
    fi
    kill -HUP $MASTER
    until [ "$(completed)" -ge $((base + i)) ]; do sleep 0.05; done
done
wait $WRK
read -r rps err non <"$tmp/during"
done_reloads=$(( $(completed) - base ))

mkdir -p bench/results
{
    pacing=$([ "$INTERVAL" = 0 ] && echo "back to back" || echo "one every ${INTERVAL}s")
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; $WORKERS workers; wrk -t1 -c$CONNS -d${DURATION}s; reloads $pacing"
    echo "# $(java -version 2>&1 | head -1)"
    printf '%-16s %10s %14s %8s\n' run "req/s" "socket errors" non-2xx
    printf '%-16s %10s %14s %8s\n' steady "$steady_rps" "$steady_err" "$steady_non"
    printf '%-16s %10s %14s %8s\n' "$done_reloads reloads" "$rps" "$err" "$non"
    awk -v a="$rps" -v b="$steady_rps" 'BEGIN { printf "ratio during reloads / steady = %.3f\n", a / b }'
} | tee "bench/results/reload-$([ "$INTERVAL" = 0 ] && echo back-to-back || echo "every-${INTERVAL}s").txt"
