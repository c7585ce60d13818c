#!/usr/bin/env bash
# Static files: the cluster (--static DIR, N workers) against nginx (N worker processes, sendfile) serving the same
# files from the same directory, a 1 KiB and a 1 MiB file, wrk keep-alive, interleaved over several rounds; prints
# medians and ratios.
#
#   bench/static.sh                   # 2 workers, 3 rounds of 10 s per file and server
#   WORKERS=4 ROUNDS=5 bench/static.sh
#
# Installs wrk and nginx from apt if they are missing. Writes bench/results/static.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
JAR=master/target/master.jar

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk nginx
[ -f "$JAR" ] || mvn -B -q package -DskipTests

scratch

www="$tmp/www"
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/1k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$www/1m.bin"
chmod 755 "$www" && chmod 644 "$www"/*

CLUSTER_PORT=$(free_port)
java -jar "$JAR" --workers="$WORKERS" --port="$CLUSTER_PORT" --runtime-dir="$tmp/run" $AS_ROOT --static="$www" \
    >"$tmp/cluster.log" 2>&1 &
pids+=($!)
NGINX_PORT=$(free_port)
start_nginx <<CONF
    sendfile on;
    tcp_nopush on;
    types { application/octet-stream bin; }
    server { listen 127.0.0.1:$NGINX_PORT; root $www; }
CONF
wait_http "$CLUSTER_PORT" /1k.bin
wait_http "$NGINX_PORT" /1k.bin

declare -A PORT=([cluster]=$CLUSTER_PORT [nginx]=$NGINX_PORT)
SERVERS=(cluster nginx)
FILES=(1k.bin 1m.bin)

run_wrk() { # server file seconds -> "rps p99ms errors MB/s"
    wrk -t"$THREADS" -c"$CONNS" -d"$3"s --latency "http://127.0.0.1:${PORT[$1]}/$2" >"$tmp/wrk.out"
    local rps p99 errors mb
    rps=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk.out")
    p99=$(awk '/^ +99%/ { print $2 }' "$tmp/wrk.out" | to_ms)
    errors=$(wrk_errors "$tmp/wrk.out")
    mb=$(awk '/Transfer\/sec/ { v = $2; if (v ~ /GB$/) { sub(/GB$/, "", v); v *= 1024 } else if (v ~ /MB$/) { sub(/MB$/, "", v) } else if (v ~ /KB$/) { sub(/KB$/, "", v); v /= 1024 } print v }' "$tmp/wrk.out")
    printf '%.0f %.2f %d %.0f\n' "$rps" "$p99" "$errors" "$mb"
}

results="$tmp/results"
interleaved_rounds "$results" "${FILES[@]}"

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s keep-alive, $ROUNDS rounds, medians"
    echo "# cluster: master + $WORKERS workers --static; nginx: $WORKERS worker processes, sendfile on; same directory"
    printf '%-8s %-8s %12s %10s %10s %8s\n' file server "req/s" "MiB/s" "p99 ms" errors
    for f in "${FILES[@]}"; do
        for s in "${SERVERS[@]}"; do
            rps=$(field_median "$results" "$f" "$s" 3)
            p99=$(field_median "$results" "$f" "$s" 4)
            mb=$(field_median "$results" "$f" "$s" 6)
            err=$(field_sum "$results" "$f" "$s" 5)
            printf '%-8s %-8s %12.0f %10.0f %10.2f %8d\n' "$f" "$s" "$rps" "$mb" "$p99" "$err"
            key=${f%.bin}
            eval "RPS_${key}_${s}=$rps"
        done
    done
    for f in "${FILES[@]}"; do
        key=${f%.bin}
        c=RPS_${key}_cluster; n=RPS_${key}_nginx
        awk -v f="$f" -v c="${!c}" -v n="${!n}" 'BEGIN { printf "ratio %-8s cluster / nginx = %.3f\n", f, c / n }'
    done
} | tee bench/results/static.txt
