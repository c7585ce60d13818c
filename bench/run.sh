#!/usr/bin/env bash
# Side-by-side benchmark: the cluster (N workers) against one Netty JVM with the same handler and N event loop
# threads, keep-alive and Connection: close, interleaved over several rounds; prints medians and ratios.
#
#   bench/run.sh                      # 2 workers, 3 rounds of 10 s per load
#   WORKERS=4 ROUNDS=5 DURATION=15 bench/run.sh
#
# Installs wrk from apt if it is missing. Writes bench/results/latest.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
JAR=master/target/master.jar
# the baseline JVM gets the flags the master gives its workers by default
JVM_OPTS=${JVM_OPTS:-"-XX:+UseSerialGC -Xmx256m -XX:+ExitOnOutOfMemoryError"}

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk
[ -f "$JAR" ] || mvn -B -q package -DskipTests

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000)); }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

wait_http() { # port: wait until GET / answers 200
    local reply
    for _ in $(seq 1 300); do
        reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" \
            && printf 'GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n' >&3 && head -c 12 <&3) 2>/dev/null) || true
        [[ $reply == *" 200"* ]] && return 0
        sleep 0.1
    done
    echo "server on port $1 did not come up; its log:" >&2
    cat "$tmp"/*.log >&2
    exit 1
}

CLUSTER_PORT=$(free_port)
java -jar "$JAR" --workers="$WORKERS" --port="$CLUSTER_PORT" --runtime-dir="$tmp/run" >"$tmp/cluster.log" 2>&1 &
pids+=($!)
NETTY_PORT=$(free_port)
# shellcheck disable=SC2086
java $JVM_OPTS -cp "$JAR" jcluster.worker.BenchServer "$NETTY_PORT" "$WORKERS" >"$tmp/netty.log" 2>&1 &
pids+=($!)
wait_http "$CLUSTER_PORT"
wait_http "$NETTY_PORT"

declare -A PORT=([cluster]=$CLUSTER_PORT [netty]=$NETTY_PORT)
declare -A HEADER=([keepalive]="" [close]="Connection: close")
SERVERS=(cluster netty)
LOADS=(keepalive close)

run_wrk() { # server load seconds -> "rps p99ms errors"
    local args=(-t"$THREADS" -c"$CONNS" -d"$3"s --latency)
    [ -n "${HEADER[$2]}" ] && args+=(-H "${HEADER[$2]}")
    wrk "${args[@]}" "http://127.0.0.1:${PORT[$1]}/" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } p99 = v }
        /Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
        /Non-2xx/ { e += $NF }
        END { printf "%.0f %.2f %d\n", rps, p99, e + 0 }'
}

echo "warming up (${WARMUP}s per server and load)..." >&2
for s in "${SERVERS[@]}"; do for l in "${LOADS[@]}"; do run_wrk "$s" "$l" "$WARMUP" >/dev/null; done; done

results="$tmp/results"
for r in $(seq 1 "$ROUNDS"); do
    for l in "${LOADS[@]}"; do
        for s in "${SERVERS[@]}"; do
            line=$(run_wrk "$s" "$l" "$DURATION")
            echo "round $r $l $s: $line" >&2
            echo "$l $s $line" >>"$results"
        done
    done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds, medians"
    echo "# cluster: master + $WORKERS workers; netty: one JVM, $WORKERS event loop threads, same pipeline and app"
    printf '%-10s %-8s %12s %10s %8s\n' load server "req/s" "p99 ms" errors
    for l in "${LOADS[@]}"; do
        for s in "${SERVERS[@]}"; do
            rps=$(awk -v l="$l" -v s="$s" '$1 == l && $2 == s { print $3 }' "$results" | median)
            p99=$(awk -v l="$l" -v s="$s" '$1 == l && $2 == s { print $4 }' "$results" | median)
            err=$(awk -v l="$l" -v s="$s" '$1 == l && $2 == s { e += $5 } END { print e + 0 }' "$results")
            printf '%-10s %-8s %12.0f %10.2f %8d\n' "$l" "$s" "$rps" "$p99" "$err"
            eval "RPS_${l}_${s}=$rps"
        done
    done
    for l in "${LOADS[@]}"; do
        c=RPS_${l}_cluster; n=RPS_${l}_netty
        awk -v l="$l" -v c="${!c}" -v n="${!n}" 'BEGIN { printf "ratio %-10s cluster / single-JVM netty = %.3f\n", l, c / n }'
    done
} | tee bench/results/latest.txt
