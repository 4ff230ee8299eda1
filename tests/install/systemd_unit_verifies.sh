#!/usr/bin/env bash
# contrib/hostpool.service passes `systemd-analyze verify` (its syntax, every directive known,
# ExecStart's program executable, Documentation= naming man pages that exist), with ExecStart
# naming the binary under test as `make install` names the installed one; and it keeps what
# the daemon's systemd support relies on. Skipped (77) where systemd-analyze is not installed.
set -euo pipefail
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze: skipped"; exit 77; }
unit=$HP_SOURCE_DIR/contrib/hostpool.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

for line in Type=notify ExecReload=/bin/kill\ -HUP\ \$MAINPID \
    "ExecStart=/usr/bin/hostpool run --config /etc/hostpool/hostpool.yaml" \
    NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    CapabilityBoundingSet=CAP_NET_BIND_SERVICE AmbientCapabilities=CAP_NET_BIND_SERVICE \
    RuntimeDirectory=hostpool LogsDirectory=hostpool; do
    grep -qxF "$line" "$unit" || { echo "hostpool.service lacks $line" >&2; failed=1; }
done

sed "s|/usr/bin/hostpool|$HOSTPOOL_BIN|" "$unit" >"$tmp/hostpool.service"
mkdir -p "$tmp/man/man1" "$tmp/man/man5"
cp "$HP_SOURCE_DIR/man/hostpool.1" "$tmp/man/man1/"
cp "$HP_SOURCE_DIR/man/hostpool.yaml.5" "$tmp/man/man5/"
if ! MANPATH=$tmp/man: SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$tmp/hostpool.service" \
    >"$tmp/out" 2>&1; then
    echo "systemd-analyze verify failed:" >&2
    failed=1
fi
# verify also reports problems of units it loads beside this one; any line about ours fails.
if grep -q "hostpool" "$tmp/out"; then
    cat "$tmp/out" >&2
    failed=1
fi
exit $failed
