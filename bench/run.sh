#!/usr/bin/env bash
# The benchmark, in one run: this server (master + N workers) against a single Netty JVM with the same pipeline,
# app and N event-loop threads, Node's cluster module with N workers, and nginx with N worker processes returning
# the same body. wrk keep-alive and with `Connection: close`, interleaved over several rounds; medians of
# requests/s and p50/p99 latency, socket errors, ratios. Then:
#   - the blocked-worker run: one worker busy 5 s on /compute; meanwhile 20 new connections each make one GET /;
#     how many took over 100 ms, here and on Node's cluster;
#   - the footprint run: RSS of the master and each worker at idle and after the load; a worker's spawn-to-READY.
#
#   bench/run.sh                      # 2 workers, 5 rounds of 10 s per server and load
#   WORKERS=4 ROUNDS=5 DURATION=15 bench/run.sh
#   SCHED=other bench/run.sh          # the cluster and the Netty JVM under SCHED_OTHER instead of SCHED_BATCH
#
# Installs wrk and nginx from apt if they are missing (Node must be on the PATH). Writes bench/results/latest.txt
# and, from it, the chart bench/results/latest.svg (bench/chart.js).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
BLOCK_MS=${BLOCK_MS:-5000}
JAR=master/target/master.jar
CLUSTER_FLAGS=${CLUSTER_FLAGS:-}
# The cluster's scheduling policy (its --sched); the single Netty JVM runs under the same one, since the comparison
# with it measures the handoff. nginx and Node run as they ship.
SCHED=${SCHED:-batch}

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk nginx curl
command -v node >/dev/null || { echo "node is not on the PATH: install Node.js 18 or later" >&2; exit 1; }
[ -f "$JAR" ] || mvn -B -q package -DskipTests
# the baseline JVM gets the flags (and the environment) the master gives its workers by default
JVM_OPTS=${JVM_OPTS:-$(java -cp "$JAR" jcluster.master.supervisor.WorkerJvm)}


scratch

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# the cluster's worker pids, from its status command
worker_pids() { java -jar "$JAR" status --json --runtime-dir="$tmp/run" | grep -o '"pid":[0-9]*' | tail -n +2 | cut -d: -f2; }

start_four_servers

# footprint at idle, before any load
sleep 2
MASTER_RSS_IDLE=$(rss_kib "$MASTER")
WORKER_RSS_IDLE=$(for w in $(worker_pids); do rss_kib "$w"; done | sort -n | tr '\n' ' ')

declare -A PORT=([cluster]=$CLUSTER_PORT [netty]=$NETTY_PORT [node]=$NODE_PORT [nginx]=$NGINX_PORT)
declare -A HEADER=([keepalive]="" [close]="Connection: close")
SERVERS=(cluster netty node nginx)
LOADS=(keepalive close)

# The processes whose CPU a server's requests cost: the cluster's master and workers, Node's primary and workers,
# nginx's master and workers, the Netty JVM.
server_pids() {
    case $1 in
        cluster) echo "$MASTER $(worker_pids)" ;;
        netty) echo "$NETTY" ;;
        node) echo "$NODE $(pgrep -P "$NODE")" ;;
        nginx) echo "$(cat "$tmp/nginx/nginx.pid") $(pgrep -P "$(cat "$tmp/nginx/nginx.pid")")" ;;
    esac
}

run_wrk() { # server load seconds -> "rps p50ms p99ms errors cpu_us_per_request"
    local args=(-t"$THREADS" -c"$CONNS" -d"$3"s --latency)
    [ -n "${HEADER[$2]}" ] && args+=(-H "${HEADER[$2]}")
    local pids before after
    pids=$(server_pids "$1")
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    wrk "${args[@]}" "http://127.0.0.1:${PORT[$1]}/" >"$tmp/wrk.out"
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    local rps p50 p99 errors requests
    rps=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk.out")
    requests=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
    p50=$(awk '/^ +50%/ { print $2 }' "$tmp/wrk.out" | to_ms)
    p99=$(awk '/^ +99%/ { print $2 }' "$tmp/wrk.out" | to_ms)
    errors=$(wrk_errors "$tmp/wrk.out")
    printf '%.0f %.3f %.2f %d %.2f\n' "$rps" "$p50" "$p99" "$errors" \
        "$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$requests" 'BEGIN { print n ? t / hz * 1e6 / n : 0 }')"
}

results="$tmp/results"
interleaved_rounds "$results" "${LOADS[@]}"

# footprint after the load
MASTER_RSS_LOAD=$(rss_kib "$MASTER")
WORKER_RSS_LOAD=$(for w in $(worker_pids); do rss_kib "$w"; done | sort -n | tr '\n' ' ')
NODE_RSS_LOAD=$(for w in $(pgrep -P "$NODE"); do rss_kib "$w"; done | sort -n | tr '\n' ' ')

# spawn to READY: a reload starts fresh workers (from the class-data archive made at start)
java -jar "$JAR" reload --runtime-dir="$tmp/run" >/dev/null
for _ in $(seq 1 300); do grep -q "reload complete" "$tmp/cluster.log" && break; sleep 0.1; done
READY_MS=$(grep 'gen 2) ready in' "$tmp/cluster.log" | sed 's/.*ready in \([0-9]*\) ms.*/\1/' | tr '\n' ' ')

blocked_run() { # port -> "slow max_ms": one worker busy BLOCK_MS; 20 new connections, one GET / each
    local port=$1 t slow=0 max=0
    curl -s -o /dev/null "http://127.0.0.1:$port/compute?ms=$BLOCK_MS" &
    local busy=$!
    sleep 0.3
    for _ in $(seq 1 20); do
        t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/")
        t=$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')
        [ "$t" -gt 100 ] && slow=$((slow + 1))
        [ "$t" -gt "$max" ] && max=$t
    done
    wait "$busy" || true
    echo "$slow $max"
}
BLOCKED_CLUSTER=$(blocked_run "$CLUSTER_PORT")
BLOCKED_NODE=$(blocked_run "$NODE_PORT")

mib() { awk '{ for (i = 1; i <= NF; i++) printf "%.0f ", $i / 1024 }'; }

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds, medians"
    echo "# cluster: master + $WORKERS workers --sched=$SCHED ${CLUSTER_FLAGS}; netty: one JVM (sched $SCHED), $WORKERS event-loop threads, same"
    echo "# pipeline and app; node: cluster module, $WORKERS workers; nginx: $WORKERS worker processes, return 200"
    echo "# cpu: CPU time of the server's processes (user + system) per request, in µs; the steadier measure on a"
    echo "# shared machine, since it does not depend on how much of the CPU the server got"
    printf '%-10s %-8s %10s %8s %8s %7s %8s\n' load server "req/s" "p50 ms" "p99 ms" errors "cpu µs"
    for l in "${LOADS[@]}"; do
        for s in "${SERVERS[@]}"; do
            rps=$(field_median "$results" "$l" "$s" 3)
            p50=$(field_median "$results" "$l" "$s" 4)
            p99=$(field_median "$results" "$l" "$s" 5)
            err=$(field_sum "$results" "$l" "$s" 6)
            cpu=$(field_median "$results" "$l" "$s" 7)
            printf '%-10s %-8s %10.0f %8.3f %8.2f %7d %8.1f\n' "$l" "$s" "$rps" "$p50" "$p99" "$err" "$cpu"
            eval "RPS_${l}_${s}=$rps"
            eval "CPU_${l}_${s}=$cpu"
        done
    done
    for l in "${LOADS[@]}"; do
        for s in netty nginx node; do
            c=RPS_${l}_cluster; o=RPS_${l}_${s}; cc=CPU_${l}_cluster; oc=CPU_${l}_${s}
            awk -v l="$l" -v s="$s" -v c="${!c}" -v o="${!o}" -v cc="${!cc}" -v oc="${!oc}" \
                'BEGIN { printf "ratio %-10s cluster / %-6s = %.3f   (cpu per request: %.2f)\n", l, s, c / o, cc / oc }'
        done
    done
    echo
    echo "blocked worker: one worker on /compute?ms=$BLOCK_MS; 20 new connections, one GET / each"
    printf '  %-8s %2d of 20 over 100 ms (slowest %d ms)\n' cluster $BLOCKED_CLUSTER
    printf '  %-8s %2d of 20 over 100 ms (slowest %d ms)\n' node $BLOCKED_NODE
    echo
    echo "footprint (RSS, MiB; workers sorted)"
    echo "  master idle $((MASTER_RSS_IDLE / 1024)), after load $((MASTER_RSS_LOAD / 1024))"
    echo "  workers idle $(echo "$WORKER_RSS_IDLE" | mib)| after load $(echo "$WORKER_RSS_LOAD" | mib)"
    echo "  node workers after load $(echo "$NODE_RSS_LOAD" | mib)"
    echo "  worker spawn to READY (ms, on reload): $READY_MS"
} | tee bench/results/latest.txt
node bench/chart.js bench/results/latest.txt bench/results/latest.svg
