#!/usr/bin/env bash
# `cmake --install` into a temporary prefix puts the binary, libhostpool (static, and shared
# with its soname), the headers, hostpool.pc, the man pages, the systemd unit and the bash
# completion in their places; examples/installed/ then builds against that prefix with
# `pkg-config --cflags --libs hostpool` (PKG_CONFIG_PATH), linked shared and linked static,
# and each build serves its request on a loopback port and exits 0. HP_EXAMPLE_CFLAGS: what
# the program needs to link a sanitized library (the ASan build's).
set -euo pipefail
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$HP_BINARY_DIR" --prefix "$prefix" >"$prefix/install.log" 2>&1 || {
    cat "$prefix/install.log" >&2
    exit 1
}
libdir=$(dirname "$(find "$prefix" -name hostpool.pc)")/..
libdir=$(cd "$libdir" && pwd)
failed=0
for file in bin/hostpool include/hostpool/hostpool.h include/hostpool/pool.h \
    share/man/man1/hostpool.1 share/man/man5/hostpool.yaml.5 lib/systemd/system/hostpool.service \
    share/bash-completion/completions/hostpool; do
    [[ -e $prefix/$file ]] || { echo "not installed: $file" >&2; failed=1; }
done
for file in libhostpool.a libhostpool.so pkgconfig/hostpool.pc; do
    [[ -e $libdir/$file ]] || { echo "not installed: $libdir/$file" >&2; failed=1; }
done
soname=$(objdump -p "$libdir/libhostpool.so" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == libhostpool.so.* && -e $libdir/$soname ]] ||
    { echo "libhostpool.so: soname \"$soname\" not installed" >&2; failed=1; }
grep -qxF "ExecStart=$prefix/bin/hostpool run --config /etc/hostpool/hostpool.yaml" \
    "$prefix/lib/systemd/system/hostpool.service" ||
    { echo "the installed unit does not start $prefix/bin/hostpool" >&2; failed=1; }
((failed == 0)) || exit 1

export PKG_CONFIG_PATH=$libdir/pkgconfig
[[ $(pkg-config --variable=prefix hostpool) == "$prefix" ]] ||
    { echo "hostpool.pc: prefix $(pkg-config --variable=prefix hostpool)" >&2; exit 1; }
cp "$HP_SOURCE_DIR/examples/installed/serve_once.c" "$HP_SOURCE_DIR/examples/installed/Makefile" \
    "$prefix/"
for linking in shared static; do
    make -s -C "$prefix" clean
    make -s -C "$prefix" STATIC=$([[ $linking == static ]] && echo 1 || echo 0) \
        CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter -Werror ${HP_EXAMPLE_CFLAGS:-}" >&2
    if [[ $linking == shared ]]; then
        # The shared build runs against the installed library, not one of the build tree.
        # ldd's output is read whole first: grep -q stopping at the first match would end
        # ldd with SIGPIPE, which pipefail reports as a failure.
        libs=$(LD_LIBRARY_PATH=$libdir ldd "$prefix/serve_once")
        grep -qF "$libdir/$soname" <<<"$libs" ||
            { echo "serve_once is not linked to $libdir/$soname" >&2; exit 1; }
    elif grep -q 'NEEDED.*libhostpool' <<<"$(objdump -p "$prefix/serve_once")"; then
        echo "the static build needs libhostpool.so" >&2
        exit 1
    fi
    out=$(LD_LIBRARY_PATH=$libdir timeout 30 "$prefix/serve_once") ||
        { echo "serve_once ($linking) failed: $out" >&2; exit 1; }
    grep -q "hello from the installed libhostpool" <<<"$out"
done
