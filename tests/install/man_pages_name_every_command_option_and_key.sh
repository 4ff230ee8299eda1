#!/usr/bin/env bash
# Every command `hostpool --help` lists and every option its own --help lists is in
# hostpool(1); every config key the checker knows is in hostpool.yaml(5), in bold.
#
# The keys come from the checker's own lists in src/: each mapping's allowed keys are an array
# next to its check, passed to hp_config_keys (`keys[] = {...}`, `own_keys`,
# HP__UPSTREAM_SETTING_KEYS), the limits are the rows of LIMIT(...) in config.c, and a
# route's handler keys are each handler kind's `.key`. A key added to any of them and missing
# from the man page fails this test.
set -euo pipefail
bin=$HOSTPOOL_BIN
man1=$(sed 's/\\-/-/g' "$HP_SOURCE_DIR/man/hostpool.1")
man5=$(sed 's/\\-/-/g' "$HP_SOURCE_DIR/man/hostpool.yaml.5")
missing=()

# "  run          --config FILE ..." and "  start, stop, restart   NAME | --all": the words
# before the first that does not end in a comma.
commands=$("$bin" --help | awk '/^  [a-z]/ {
    for (i = 1; i <= NF; i++) { w = $i; more = sub(/,$/, "", w); print w; if (!more) break } }')
[[ $(wc -w <<<"$commands") -ge 15 ]] || { echo "too few commands in --help: $commands" >&2; exit 1; }
for command in $commands; do
    grep -Eq "^\.(B|BR) \"?$command( |\"|$)" <<<"$man1" || missing+=("hostpool.1: command $command")
    for option in $("$bin" "$command" --help | grep -Eo -- '(^| |\[)--?[a-z][a-z-]*' |
        sed 's/^[ [\]*//' | sort -u); do
        grep -Eq -- "(^|[ \"])$option([ \",.]|$)" <<<"$man1" ||
            missing+=("hostpool.1: $command's option $option")
    done
done

keys=$(find "$HP_SOURCE_DIR/src" -name '*.c' | sort | xargs awk '
    function strings(text) {
        while (match(text, /"[a-z_]+"/)) {
            print substr(text, RSTART + 1, RLENGTH - 2)
            text = substr(text, RSTART + RLENGTH)
        }
    }
    /(keys|KEYS)(\[[^]]*\])? *= *\{/ { listing = 1 }
    listing { strings($0) }
    listing && /\};/ { listing = 0 }
    /^ *LIMIT\(/ { sub(/^[^,]*,/, ""); sub(/,.*/, ""); strings($0) }
    /^ *\.key = "/ { strings($0) }' | sort -u)
[[ $(wc -w <<<"$keys") -ge 50 ]] || { echo "too few keys found in src/: $keys" >&2; exit 1; }
for key in $keys; do
    grep -Eq "^\.BR? ([a-z_]+\.)*$key( |$)|\\\\fB([a-z_]+\.)*$key\\\\f" <<<"$man5" ||
        missing+=("hostpool.yaml.5: key $key")
done

if ((${#missing[@]})); then
    printf 'not in the man pages: %s\n' "${missing[@]}" >&2
    exit 1
fi
