#!/usr/bin/env bash
# The import rules of docs/ARCHITECTURE.md that crate dependencies cannot express, checked on the
# source text (comments excluded). Run by `make check-layers`.
#  1. The application layer (api/src/app) imports no actix-web, utoipa or validator.
#  2. No module names a route module, except the assembly of the router and the OpenAPI
#     document (api/src/server.rs, api/src/openapi.rs); route modules never name each other.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
report() { echo "check-imports: $1"; printf '%s\n' "$2" | sed 's/^/  /'; failed=1; }
code_lines() { grep -rnE "$1" "${@:2}" --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//' || true; }

hits=$(code_lines '\b(actix_web|actix_multipart|actix_cors|actix|utoipa|utoipa_actix_web|validator)::|#\[derive\([^)]*\b(ToSchema|IntoParams|Validate)\b|\bweb::(Json|Data|Path|Query)\b' api/src/app)
[ -z "$hits" ] || report "application code (api/src/app) must not use actix-web, utoipa or validator:" "$hits"

hits=$(code_lines '\broutes::[a-z_]+' api/src api/benches tests \
  | grep -vE '^api/src/(server|openapi)\.rs:' | grep -vE '^api/src/routes/' || true)
[ -z "$hits" ] || report "only the router and OpenAPI assembly may name route modules:" "$hits"

hits=$(code_lines '\bsuper::[a-z_]+::|\bcrate::routes::|\buse super::[a-z_]+' api/src/routes | grep -vE 'use super::\*' || true)
[ -z "$hits" ] || report "route modules must not import each other (shared code goes to app/, http.rs or views.rs):" "$hits"

exit $failed
