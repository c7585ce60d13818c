# Shared by the bench scripts: source it, do not run it.

# Installs the named Debian packages whose commands are missing (as root, or through sudo).
need() {
    local missing=()
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    [ ${#missing[@]} = 0 ] && return 0
    echo "installing ${missing[*]} from apt..." >&2
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# A free TCP port on loopback (a random high one if python3 is missing).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}

# Waits until GET PATH on PORT answers 200; otherwise prints the logs in $tmp and exits 1.
wait_http() { # port path
    local reply
    for _ in $(seq 1 300); do
        reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" \
            && printf 'GET %s HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n' "$2" >&3 && head -c 12 <&3) 2>/dev/null) || true
        [[ $reply == *" 200"* ]] && return 0
        sleep 0.1
    done
    echo "server on port $1 did not come up; its log:" >&2
    cat "$tmp"/*.log >&2
    exit 1
}

# A scratch directory $tmp and the array pids: at exit every process in it gets SIGTERM and is waited for, and $tmp
# goes. It is 755: nginx's workers run as an unprivileged user when started as root, and read files from it.
scratch() {
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    pids=()
    trap stop_all EXIT
}

stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}

# Starts nginx under $tmp/nginx with WORKERS worker processes: nginx_conf_head, then the http settings and server
# blocks on stdin; its pid joins pids.
start_nginx() {
    mkdir -p "$tmp/nginx"
    { nginx_conf_head "$tmp/nginx" "$WORKERS"; cat; echo "}"; } >"$tmp/nginx/nginx.conf"
    nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx.log" 2>&1 &
    pids+=($!)
}

# The start of an nginx.conf for a bench run: WORKERS processes, everything it writes under DIR, no access log;
# start_nginx adds the caller's http settings and server blocks and closes the http block.
nginx_conf_head() { # dir workers
    cat <<CONF
daemon off;
master_process on;
worker_processes $2;
pid $1/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $1;
    proxy_temp_path $1;
    fastcgi_temp_path $1;
    uwsgi_temp_path $1;
    scgi_temp_path $1;
CONF
}

# wrk's latency with its unit (250.00us, 1.20ms, 2.00s) in milliseconds: stdin to stdout.
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }'; }

# Socket errors plus non-2xx responses in a saved wrk output.
wrk_errors() { # file
    awk '/Socket errors/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 } /Non-2xx/ { e += $NF } END { print e + 0 }' "$1"
}

# The median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Runs the script's run_wrk SERVER CASE SECONDS for each of its SERVERS and each CASE: a WARMUP-second warm-up of
# each, then ROUNDS rounds of DURATION seconds, interleaved; appends "CASE SERVER <run_wrk's fields>" to FILE.
interleaved_rounds() { # file case...
    local out=$1 r c s line
    shift
    echo "warming up (${WARMUP}s per server and case)..." >&2
    for s in "${SERVERS[@]}"; do for c in "$@"; do run_wrk "$s" "$c" "$WARMUP" >/dev/null; done; done
    for r in $(seq 1 "$ROUNDS"); do
        for c in "$@"; do
            for s in "${SERVERS[@]}"; do
                line=$(run_wrk "$s" "$c" "$DURATION")
                echo "round $r $c $s: $line" >&2
                echo "$c $s $line" >>"$out"
            done
        done
    done
}

# The median of field N over the lines interleaved_rounds wrote for CASE and SERVER.
field_median() { # file case server n
    awk -v c="$2" -v s="$3" -v n="$4" '$1 == c && $2 == s { print $n }' "$1" | median
}

# The sum of field N over those lines.
field_sum() { # file case server n
    awk -v c="$2" -v s="$3" -v n="$4" '$1 == c && $2 == s { t += $n } END { print t + 0 }' "$1"
}

# The user and system clock ticks of these processes, summed; HZ ticks make a second.
cpu_ticks() { # pids
    local t=0 p
    for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$t"
}
HZ=$(getconf CLK_TCK)

# Run as root (as on these machines), the master must be told its workers may run as root too (as Node's do; nginx
# started as root runs its workers as nobody).
AS_ROOT=
[ "$(id -u)" = 0 ] && AS_ROOT=--allow-root

# Starts the four servers of a comparison, each on a free port, serving the same hello: this cluster (master and
# WORKERS workers, --sched=SCHED, AS_ROOT and CLUSTER_FLAGS), one Netty JVM with the same pipeline and app (under
# the same policy, with JVM_OPTS), Node's cluster and nginx, WORKERS processes each; waits until each answers.
# Sets MASTER, NETTY, NODE and the *_PORT variables, adds the pids to the caller's pids array; logs go to $tmp.
start_four_servers() {
    CLUSTER_PORT=$(free_port)
    # shellcheck disable=SC2086
    java -jar "$JAR" --workers="$WORKERS" --port="$CLUSTER_PORT" --runtime-dir="$tmp/run" --sched="$SCHED" $AS_ROOT \
        $CLUSTER_FLAGS >"$tmp/cluster.log" 2>&1 &
    MASTER=$!
    pids+=($MASTER)
    NETTY_PORT=$(free_port)
    # shellcheck disable=SC2086
    MALLOC_ARENA_MAX=2 chrt --"$SCHED" 0 java $JVM_OPTS -cp "$JAR" jcluster.worker.BenchServer "$NETTY_PORT" \
        "$WORKERS" >"$tmp/netty.log" 2>&1 &
    NETTY=$!
    pids+=($NETTY)
    NODE_PORT=$(free_port)
    node bench/node-cluster.js "$NODE_PORT" "$WORKERS" >"$tmp/node.log" 2>&1 &
    NODE=$!
    pids+=($NODE)
    NGINX_PORT=$(free_port)
    start_nginx <<CONF
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { default_type "text/plain; charset=utf-8"; return 200 "Hello, world!\n"; }
    }
CONF
    for p in "$CLUSTER_PORT" "$NETTY_PORT" "$NODE_PORT" "$NGINX_PORT"; do wait_http "$p" /; done
}

# Installs the Debian package PKG when the command CMD is missing.
need_from() { # cmd pkg
    command -v "$1" >/dev/null && return 0
    echo "installing $2 from apt (for $1)..." >&2
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$2" >/dev/null
}
