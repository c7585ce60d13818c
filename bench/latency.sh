#!/usr/bin/env bash
# Tail latency at a fixed rate (an open loop, so a slow response does not slow the load that measures it): h2load
# --h1 sends RATE requests/s over CONNS keep-alive connections to this server, a single Netty JVM, Node's cluster
# and nginx (the four of bench/run.sh, WORKERS processes each), interleaved over ROUNDS rounds; each request's
# latency from h2load's per-request log; medians over the rounds of p50, p99, p99.9 and the maximum; ratios to
# nginx. RATE is FRACTION (default half) of nginx's keep-alive capacity, measured first with wrk, unless given.
#
#   bench/latency.sh                          # 2 workers, half of nginx's capacity, 3 rounds of 8 s
#   FRACTION=0.25 bench/latency.sh            # a quarter of it
#   RATE=40000 ROUNDS=5 bench/latency.sh
#   SCHED=other bench/latency.sh              # the cluster and the Netty JVM under SCHED_OTHER
#
# Installs wrk, nginx and h2load (Debian's nghttp2-client) if missing; Node must be on the PATH. Writes
# bench/results/latency.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-64}
FRACTION=${FRACTION:-0.5}
JAR=master/target/master.jar
CLUSTER_FLAGS=${CLUSTER_FLAGS:-}
SCHED=${SCHED:-batch}

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk nginx
need_from h2load nghttp2-client
command -v node >/dev/null || { echo "node is not on the PATH: install Node.js 18 or later" >&2; exit 1; }
[ -f "$JAR" ] || mvn -B -q package -DskipTests
# the Netty JVM gets the flags the master gives its workers by default
JVM_OPTS=${JVM_OPTS:-$(java -cp "$JAR" jcluster.master.supervisor.WorkerJvm)}

scratch

start_four_servers
declare -A PORT=([cluster]=$CLUSTER_PORT [netty]=$NETTY_PORT [node]=$NODE_PORT [nginx]=$NGINX_PORT)
SERVERS=(cluster netty node nginx)

if [ -z "${RATE:-}" ]; then
    wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$NGINX_PORT/" >/dev/null
    CAPACITY=$(wrk -t1 -c"$CONNS" -d5s "http://127.0.0.1:$NGINX_PORT/" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
    RATE=$(awk -v c="$CAPACITY" -v f="$FRACTION" 'BEGIN { printf "%.0f", c * f }')
    echo "nginx's keep-alive capacity: $CAPACITY req/s; the fixed rate: $RATE req/s" >&2
fi
PER_CLIENT=$(( (RATE + CONNS - 1) / CONNS ))

# interleaved_rounds calls run_wrk SERVER CASE SECONDS -> "rps p50 p99 p999 max errors" (latencies in ms)
run_wrk() {
    # h2load appends to its log: each run starts a new one; its first second (connecting, warming) is not logged
    rm -f "$tmp/h2.log"
    h2load --h1 -t1 -c"$CONNS" --rps="$PER_CLIENT" -D "$3" --warm-up-time=1 --log-file="$tmp/h2.log" \
        "http://127.0.0.1:${PORT[$1]}/" >"$tmp/h2.out" 2>&1 || true
    local rps errors non2xx
    rps=$(awk '/^finished in/ { gsub(/,/, ""); for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s") print $i }' "$tmp/h2.out")
    # failed, errored and timed out; then 3xx, 4xx and 5xx
    errors=$(awk '/^requests:/ { gsub(/,/, ""); print $10 + $12 + $14 }' "$tmp/h2.out")
    non2xx=$(awk '/^status codes:/ { gsub(/,/, ""); print $5 + $7 + $9 }' "$tmp/h2.out")
    # the log: start (µs since the epoch), status, microseconds to the end of the response
    awk '{ print $3 }' "$tmp/h2.log" | sort -n | awk -v rps="${rps:-0}" -v e=$(( ${errors:-0} + ${non2xx:-0} )) '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print rps, 0, 0, 0, 0, e; exit }
            printf "%.0f %.3f %.3f %.3f %.3f %d\n", rps, v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000,
                v[int(NR * 0.999) + 1] / 1000, v[NR] / 1000, e
        }'
}

results="$tmp/results"
interleaved_rounds "$results" fixed

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; h2load --h1 -c$CONNS at $RATE req/s (${PER_CLIENT}/s per connection), ${DURATION} s,"
    echo "# $ROUNDS rounds interleaved, medians; cluster: master + $WORKERS workers --sched=$SCHED ${CLUSTER_FLAGS}; netty: one JVM, $WORKERS loops;"
    echo "# node: cluster module, $WORKERS workers; nginx: $WORKERS workers. Latencies in ms, from h2load's per-request log."
    printf '%-8s %9s %8s %8s %9s %8s %7s\n' server "req/s" p50 p99 "p99.9" max errors
    for s in "${SERVERS[@]}"; do
        r=$(field_median "$results" fixed "$s" 3)
        p50=$(field_median "$results" fixed "$s" 4)
        p99=$(field_median "$results" fixed "$s" 5)
        p999=$(field_median "$results" fixed "$s" 6)
        max=$(field_median "$results" fixed "$s" 7)
        err=$(field_sum "$results" fixed "$s" 8)
        printf '%-8s %9.0f %8.3f %8.3f %9.3f %8.2f %7d\n' "$s" "$r" "$p50" "$p99" "$p999" "$max" "$err"
        eval "P99_$s=$p99; P999_$s=$p999"
    done
    for s in netty node nginx; do
        a=P99_$s; b=P999_$s
        awk -v s="$s" -v c="$P99_cluster" -v o="${!a}" -v c9="$P999_cluster" -v o9="${!b}" \
            'BEGIN { printf "ratio cluster / %-6s p99 %.2f   p99.9 %.2f\n", s, c / o, c9 / o9 }'
    done
} | tee bench/results/latency.txt
