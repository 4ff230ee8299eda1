#!/usr/bin/env bash
# contrib/hostpool.bash-completion, sourced in bash: the first word completes to the
# commands, "-" to the command's own options (run's, not a client's), a NAME to the running
# daemon's servers (asked with the line's --admin), and to nothing, quietly, without a daemon.
set -euo pipefail
# shellcheck source=/dev/null
source "$HP_SOURCE_DIR/contrib/hostpool.bash-completion"
tmp=$(mktemp -d)
daemon=
cleanup() {
    [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0

# Completes the words of "$1" (the last one, empty after a trailing space) and compares the
# sorted candidates with "$2".
expect() {
    local line=$1 want=$2
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_WORDS[0]=$HOSTPOOL_BIN
    _hostpool 2>"$tmp/stderr"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    if [[ $got != "$want" ]]; then
        echo "\"$line\": got \"$got\", want \"$want\"" >&2
        failed=1
    fi
    if [[ -s $tmp/stderr ]]; then
        echo "\"$line\" printed: $(cat "$tmp/stderr")" >&2
        failed=1
    fi
}

# Every command `hostpool --help` lists is completed (the words before the first that does not
# end in a comma, as the man pages' test reads them).
for command in $("$HOSTPOOL_BIN" --help | awk '/^  [a-z]/ {
    for (i = 1; i <= NF; i++) { w = $i; more = sub(/,$/, "", w); print w; if (!more) break } }'); do
    [[ " $(tr '\n' ' ' <<<"$_hostpool_commands") " == *" $command "* ]] ||
        { echo "command $command is not completed" >&2; failed=1; }
done

expect "hostpool re" "reload respond restart reverse-proxy"
expect "hostpool fi" "file-server"
expect "hostpool run --" "--admin --config --help --keep-going --pid-file --token-file"
expect "hostpool logs --f" "--follow"
expect "hostpool validate --config $HP_SOURCE_DIR/examples/hostpool.y" \
    "$HP_SOURCE_DIR/examples/hostpool.yaml"
expect "hostpool respond --workers " ""

admin="unix:$tmp/admin.sock"
expect "hostpool stop --admin $admin " ""

cat >"$tmp/pool.yaml" <<'YAML'
access_log: off
servers:
  - { name: alpha, listen: "127.0.0.1:0", routes: [ { respond: { body: a } } ] }
  - { name: beta, listen: "127.0.0.1:0", routes: [ { respond: { body: b } } ] }
  - { name: alpine, listen: "127.0.0.1:0", routes: [ { respond: { body: c } } ] }
YAML
"$HOSTPOOL_BIN" run --config "$tmp/pool.yaml" --admin "$admin" >"$tmp/out" 2>"$tmp/err" &
daemon=$!
deadline=$((SECONDS + 10))
until grep -q "servers running" "$tmp/out"; do
    if ((SECONDS > deadline)) || ! kill -0 "$daemon" 2>/dev/null; then
        echo "the daemon did not start:" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
    sleep 0.05
done
expect "hostpool stop --admin $admin al" "alpha alpine"
expect "hostpool status --admin $admin " "admin alpha alpine beta"
expect "hostpool ls --admin $admin " ""
exit $failed
