#!/usr/bin/env bash
# Compression: the cluster (--static DIR --compress, N workers) against nginx (N worker processes, gzip on, the same
# level) serving the same 10 KiB HTML page, asked for without and with Accept-Encoding: gzip; wrk keep-alive,
# interleaved over several rounds; medians of requests/s, response bytes, CPU per request, and ratios.
#
#   bench/compress.sh                 # 2 workers, 3 rounds of 10 s per case and server, gzip level 1
#   LEVEL=6 ROUNDS=5 bench/compress.sh
#
# Installs wrk and nginx from apt if they are missing. Writes bench/results/compress.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-1}
LEVEL=${LEVEL:-1}
JAR=master/target/master.jar

# shellcheck source=bench/lib.sh
. bench/lib.sh
need wrk nginx curl
[ -f "$JAR" ] || mvn -B -q package -DskipTests

scratch

# a page of real text: this repository's README, its first 10 KiB
www="$tmp/www"
mkdir -p "$www"
{ echo "<!doctype html><html><body><pre>"; head -c 10240 README.md; echo "</pre></body></html>"; } >"$www/page.html"
chmod 755 "$www" && chmod 644 "$www"/*

CLUSTER_PORT=$(free_port)
java -jar "$JAR" --workers="$WORKERS" --port="$CLUSTER_PORT" --runtime-dir="$tmp/run" $AS_ROOT --static="$www" \
    --compress --compress-level="$LEVEL" >"$tmp/cluster.log" 2>&1 &
MASTER=$!
pids+=($MASTER)
NGINX_PORT=$(free_port)
start_nginx <<CONF
    types { text/html html; }
    gzip on;
    gzip_comp_level $LEVEL;
    gzip_min_length 256;
    gzip_vary on;
    server { listen 127.0.0.1:$NGINX_PORT; root $www; }
CONF
wait_http "$CLUSTER_PORT" /page.html
wait_http "$NGINX_PORT" /page.html

declare -A PORT=([cluster]=$CLUSTER_PORT [nginx]=$NGINX_PORT)
declare -A HEADER=([plain]="" [gzip]="Accept-Encoding: gzip")
SERVERS=(cluster nginx)
CASES=(plain gzip)

server_pids() {
    case $1 in
        cluster) echo "$MASTER $(pgrep -P "$MASTER")" ;;
        nginx) echo "$(cat "$tmp/nginx/nginx.pid") $(pgrep -P "$(cat "$tmp/nginx/nginx.pid")")" ;;
    esac
}

# the bytes of one response's body, as this case asks for it
body_bytes() { # server case
    curl -s -o /dev/null -w '%{size_download}' ${HEADER[$2]:+-H "${HEADER[$2]}"} "http://127.0.0.1:${PORT[$1]}/page.html"
}

run_wrk() { # server case seconds -> "rps p99ms errors cpu_us_per_request body_bytes"
    local args=(-t"$THREADS" -c"$CONNS" -d"$3"s --latency)
    [ -n "${HEADER[$2]}" ] && args+=(-H "${HEADER[$2]}")
    local before after rps p99 errors requests
    # shellcheck disable=SC2046
    before=$(cpu_ticks $(server_pids "$1"))
    wrk "${args[@]}" "http://127.0.0.1:${PORT[$1]}/page.html" >"$tmp/wrk.out"
    # shellcheck disable=SC2046
    after=$(cpu_ticks $(server_pids "$1"))
    rps=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk.out")
    requests=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
    p99=$(awk '/^ +99%/ { print $2 }' "$tmp/wrk.out" | to_ms)
    errors=$(wrk_errors "$tmp/wrk.out")
    printf '%.0f %.2f %d %.2f %d\n' "$rps" "$p99" "$errors" \
        "$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$requests" 'BEGIN { print n ? t / hz * 1e6 / n : 0 }')" \
        "$(body_bytes "$1" "$2")"
}

results="$tmp/results"
interleaved_rounds "$results" "${CASES[@]}"

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s keep-alive, $ROUNDS rounds, medians"
    echo "# a 10 KiB HTML page; cluster: master + $WORKERS workers --static --compress --compress-level=$LEVEL;"
    echo "# nginx: $WORKERS worker processes, gzip on, gzip_comp_level $LEVEL; gzip: the request says Accept-Encoding: gzip"
    printf '%-8s %-8s %10s %8s %7s %8s %8s\n' case server "req/s" "p99 ms" errors "cpu µs" bytes
    for c in "${CASES[@]}"; do
        for s in "${SERVERS[@]}"; do
            rps=$(field_median "$results" "$c" "$s" 3)
            p99=$(field_median "$results" "$c" "$s" 4)
            err=$(field_sum "$results" "$c" "$s" 5)
            cpu=$(field_median "$results" "$c" "$s" 6)
            bytes=$(field_median "$results" "$c" "$s" 7)
            printf '%-8s %-8s %10.0f %8.2f %7d %8.1f %8d\n' "$c" "$s" "$rps" "$p99" "$err" "$cpu" "$bytes"
            eval "RPS_${c}_${s}=$rps"
            eval "CPU_${c}_${s}=$cpu"
        done
    done
    for c in "${CASES[@]}"; do
        r=RPS_${c}_cluster; n=RPS_${c}_nginx; rc=CPU_${c}_cluster; nc=CPU_${c}_nginx
        awk -v c="$c" -v r="${!r}" -v n="${!n}" -v rc="${!rc}" -v nc="${!nc}" \
            'BEGIN { printf "ratio %-8s cluster / nginx = %.3f   (cpu per request: %.2f)\n", c, r / n, rc / nc }'
    done
} | tee bench/results/compress.txt
