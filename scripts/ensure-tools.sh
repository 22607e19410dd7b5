#!/bin/sh
# Installs what the test suite calls besides cargo, when it is missing: poppler-utils
# (pdftotext, pdftoppm) to read generated PDFs back. Debian/Ubuntu; uses sudo when not root.
set -eu
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing poppler-utils (pdftotext, pdftoppm) for the PDF tests" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q poppler-utils >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q poppler-utils >/dev/null; }
command -v pdftotext >/dev/null 2>&1
