#!/usr/bin/env bash
# hostpool(1) and hostpool.yaml(5) render with groff's man macros without a single warning
# (-ww: every warning on), as `man -l` shows them.
set -euo pipefail
cd "$HP_SOURCE_DIR/man"
status=0
for page in hostpool.1 hostpool.yaml.5; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    if [[ -n $warnings ]]; then
        echo "$page: groff warns:" >&2
        echo "$warnings" >&2
        status=1
    fi
    lines=$(groff -man -Tutf8 "$page" 2>/dev/null | wc -l)
    if ((lines < 100)); then
        echo "$page: renders to $lines lines only" >&2
        status=1
    fi
done
exit $status
