#!/bin/sh
# Installs the programs the tests (and, with `bench`, the benchmarks) call besides cargo, when
# they are missing: poppler-utils (pdftotext, pdftoppm) to read generated PDFs back, nginx as
# the reverse proxy of the several-instances test (run from its own configuration, never as a
# service), and wrk as the load generator of `make bench`. Debian/Ubuntu; uses sudo when not root.
set -eu
need=""
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need="poppler-utils"
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need="$need nginx-light"
if [ "${1:-}" = "bench" ]; then
    command -v wrk >/dev/null 2>&1 || need="$need wrk"
fi
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing $need" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages that ship a service (nginx) are installed without starting it.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d && policy=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $need >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $need >/dev/null; }
[ -z "$policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
command -v pdftotext >/dev/null 2>&1
