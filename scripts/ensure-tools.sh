#!/bin/sh
# Installs the programs the tests (and, with `bench`, the benchmarks) call besides cargo, when
# they are missing: poppler-utils (pdftotext, pdftoppm) to read generated PDFs back, and wrk
# as the load generator of `make bench`. Debian/Ubuntu; uses sudo when not root.
set -eu
need=""
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need="poppler-utils"
if [ "${1:-}" = "bench" ]; then
    command -v wrk >/dev/null 2>&1 || need="$need wrk"
fi
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing $need" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $need >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $need >/dev/null; }
command -v pdftotext >/dev/null 2>&1
