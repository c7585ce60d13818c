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
