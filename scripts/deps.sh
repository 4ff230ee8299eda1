#!/usr/bin/env bash
# Installs the Debian packages hostpool needs to build and test, only those missing.
# Idempotent and quick when everything is there. Usage: scripts/deps.sh [extra-package...]
# `make bench` passes nginx-light, haproxy and wrk as extras; `make test` and `make run` never do.
# (and brotli, whose command precompresses the .br files bench/compress.sh serves)
set -euo pipefail

# prometheus: only for its promtool, with which tests check the metrics text (about 20 MB).
# libwslay-dev: WebSocket frames; zlib1g-dev, libbrotli-dev: compression (gzip, brotli,
# permessage-deflate); libcrypt-dev: password hashes (basic_auth). python3-websockets and
# node-ws: real WebSocket clients for the tests (and the benchmark's Node `ws` server).
packages=(build-essential cmake pkg-config libuv1-dev node-llhttp libjansson-dev
          libyaml-dev libcmocka-dev clang curl prometheus libwslay-dev zlib1g-dev
          libbrotli-dev libcrypt-dev python3-websockets node-ws "$@")
# groff-base renders the man pages in their test (systemd-analyze, where systemd is, checks the
# unit; that test is skipped without it).
packages+=(groff-base)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# A package that starts a service (nginx) must not leave it running on a developer machine.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts the Prometheus server where systemd runs; the tests need only promtool.
if [[ " ${missing[*]} " == *" prometheus "* ]] && systemctl is-active --quiet prometheus 2>/dev/null; then
  $sudo systemctl disable --now prometheus
fi
# The same for HAProxy: bench/proxy.sh starts its own, on a loopback port.
if [[ " ${missing[*]} " == *" haproxy "* ]] && systemctl is-active --quiet haproxy 2>/dev/null; then
  $sudo systemctl disable --now haproxy
fi
