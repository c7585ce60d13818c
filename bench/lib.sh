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

# The start of an nginx.conf for a bench run: WORKERS processes, everything it writes under DIR, no access log;
# the caller adds its http settings and server block and closes the http block.
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
