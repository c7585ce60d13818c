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

tmp=$(mktemp -d)
# nginx's workers run as an unprivileged user when started as root: they must be able to read the files
chmod 755 "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

www="$tmp/www"
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/1k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$www/1m.bin"
chmod 755 "$www" && chmod 644 "$www"/*

CLUSTER_PORT=$(free_port)
java -jar "$JAR" --workers="$WORKERS" --port="$CLUSTER_PORT" --runtime-dir="$tmp/run" --static="$www" \
    >"$tmp/cluster.log" 2>&1 &
pids+=($!)
NGINX_PORT=$(free_port)
mkdir -p "$tmp/nginx"
{
    nginx_conf_head "$tmp/nginx" "$WORKERS"
    cat <<CONF
    sendfile on;
    tcp_nopush on;
    types { application/octet-stream bin; }
    server { listen 127.0.0.1:$NGINX_PORT; root $www; }
}
CONF
} >"$tmp/nginx/nginx.conf"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx.log" 2>&1 &
pids+=($!)
wait_http "$CLUSTER_PORT" /1k.bin
wait_http "$NGINX_PORT" /1k.bin

declare -A PORT=([cluster]=$CLUSTER_PORT [nginx]=$NGINX_PORT)
SERVERS=(cluster nginx)
FILES=(1k.bin 1m.bin)

run_wrk() { # server file seconds -> "rps p99ms errors MB/s"
    wrk -t"$THREADS" -c"$CONNS" -d"$3"s --latency "http://127.0.0.1:${PORT[$1]}/$2" | awk '
        /Requests\/sec/ { rps = $2 }
        /Transfer\/sec/ { v = $2; if (v ~ /GB$/) { sub(/GB$/, "", v); v *= 1024 } else if (v ~ /MB$/) { sub(/MB$/, "", v) } else if (v ~ /KB$/) { sub(/KB$/, "", v); v /= 1024 } mb = v }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } p99 = v }
        /Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 }
        /Non-2xx/ { e += $NF }
        END { printf "%.0f %.2f %d %.0f\n", rps, p99, e + 0, mb }'
}

echo "warming up (${WARMUP}s per server and file)..." >&2
for s in "${SERVERS[@]}"; do for f in "${FILES[@]}"; do run_wrk "$s" "$f" "$WARMUP" >/dev/null; done; done

results="$tmp/results"
for r in $(seq 1 "$ROUNDS"); do
    for f in "${FILES[@]}"; do
        for s in "${SERVERS[@]}"; do
            line=$(run_wrk "$s" "$f" "$DURATION")
            echo "round $r $f $s: $line" >&2
            echo "$f $s $line" >>"$results"
        done
    done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mkdir -p bench/results
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores; wrk -t$THREADS -c$CONNS -d${DURATION}s keep-alive, $ROUNDS rounds, medians"
    echo "# cluster: master + $WORKERS workers --static; nginx: $WORKERS worker processes, sendfile on; same directory"
    printf '%-8s %-8s %12s %10s %10s %8s\n' file server "req/s" "MiB/s" "p99 ms" errors
    for f in "${FILES[@]}"; do
        for s in "${SERVERS[@]}"; do
            rps=$(awk -v f="$f" -v s="$s" '$1 == f && $2 == s { print $3 }' "$results" | median)
            p99=$(awk -v f="$f" -v s="$s" '$1 == f && $2 == s { print $4 }' "$results" | median)
            mb=$(awk -v f="$f" -v s="$s" '$1 == f && $2 == s { print $6 }' "$results" | median)
            err=$(awk -v f="$f" -v s="$s" '$1 == f && $2 == s { e += $5 } END { print e + 0 }' "$results")
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
