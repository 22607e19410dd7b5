//! The OpenAPI document's frame: info, security schemes and tags. Paths and schemas come from
//! the handlers' annotations as they are registered in [`crate::server::build_app`].

use utoipa::openapi::security::{ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

/// Adds the bearer and OAuth2 client-credentials schemes.
pub struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from `/api/v1/auth/login`, `/api/v1/auth/refresh` or `/api/v1/auth/token`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_credentials",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/api/v1/auth/token",
                    Scopes::from_iter([
                        ("cases.submit", "Submit cases forwarded by the national portal"),
                        ("cases.read", "Read cases and their progress"),
                        ("feedback.sync", "Exchange feedback with the national PAKN system"),
                    ]),
                ))],
                "Integration clients (national portal, reporting system).",
            )),
        );
    }
}

/// The document frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        version = "1.0.0",
        description = "Headless REST platform for a provincial Public Service Portal (Cổng Dịch vụ công) and One-Stop-Shop Electronic Information System (Hệ thống thông tin một cửa điện tử), after Decree 61/2018/NĐ-CP, Circular 01/2018/TT-VPCP and Cao Bằng Decision 05/2020/QĐ-UBND.\n\nErrors are RFC 9457 `application/problem+json` documents with a stable `code` (see `docs/ERRORS.md`); `title` and `detail` follow `Accept-Language` (`vi` default, `en`). Every `POST` accepts `Idempotency-Key`; on login, refresh and client credentials, whose answers carry credentials and are never stored, the key is ignored. Text is taken in Unicode NFC; control characters (other than tab and line breaks in JSON strings) are refused with 422 naming the field.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        contact(name = "motcua maintainers")
    ),
    servers((url = "/", description = "This server")),
    // Routed by hand in `server.rs` (a fixed-prefix scope); every other path is collected from
    // its route.
    paths(crate::routes::cases::lookup_case),
    modifiers(&SecurityAddon),
    tags(
        (name = "auth", description = "Login, tokens, registration and the caller's account"),
        (name = "users", description = "Account administration and the role ledger (Art. 7)"),
        (name = "agencies", description = "The agency tree and electronic identifier codes"),
        (name = "procedures", description = "The procedure catalogue, publication lifecycle, workflows and FAQ (Art. 8-11)"),
        (name = "cases", description = "Cases: intake, actions, history and public lookup (Art. 13-26)"),
        (name = "calendar", description = "The working calendar and deadlines (Labour Code 2019 Art. 112)"),
        (name = "feedback", description = "Feedback and petitions (phản ánh, kiến nghị; Art. 5.2.e, Decree 20/2008)"),
        (name = "reports", description = "Periodic reports (Biểu số 06/VPCP/KSTT) and frozen snapshots (Art. 19.5)"),
        (name = "public", description = "Public, unauthenticated pages of the portal (Art. 5.2.đ, 5.2.h)"),
        (name = "statistics", description = "Statistics, satisfaction and evaluation (Art. 5.2.g, 6.1.c)"),
        (name = "integrations", description = "National systems: catalogue sync and background jobs"),
        (name = "audit", description = "The append-only, hash-chained audit trail"),
        (name = "health", description = "Liveness, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The name of the shared response of problem documents with `status`.
fn problem_response_name(status: &str) -> String {
    format!("Problem{status}")
}

/// Makes every problem response a reference to one shared response per status
/// (`#/components/responses/Problem404`, …) that carries the `application/problem+json` content,
/// keeping the operation's own description beside the reference (OpenAPI 3.1). The handlers
/// declare their problem responses as before; only the document changes.
pub fn share_problem_responses(api: &mut utoipa::openapi::OpenApi) {
    let mut shared: std::collections::BTreeMap<String, Response> = std::collections::BTreeMap::new();
    for item in api.paths.paths.values_mut() {
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(inline) = response else { continue };
                let is_problem = inline.content.len() == 1 && inline.content.contains_key("application/problem+json");
                if !is_problem {
                    continue;
                }
                let name = problem_response_name(status);
                let code = status.parse::<u16>().ok().and_then(|s| crate::error::Code::ALL.iter().find(|c| c.status() == s).copied());
                shared.entry(name.clone()).or_insert_with(|| {
                    let mut component = inline.clone();
                    component.description = code.map_or_else(
                        || format!("A problem document ({status})"),
                        |c| format!("A problem document (`{}` or another code of status {status}; see `docs/ERRORS.md`)", c.as_str()),
                    );
                    component
                });
                let mut reference = Ref::new(format!("#/components/responses/{name}"));
                reference.description = inline.description.clone();
                *response = RefOr::Ref(reference);
            }
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    for (name, response) in shared {
        components.responses.insert(name, RefOr::T(response));
    }
}

/// Whether a plain YAML scalar means something else to a YAML 1.1 parser (PyYAML, SnakeYAML and
/// the tools built on them) than to YAML 1.2: the words read as booleans only in 1.1 (`no`,
/// `yes`, `on`, `off`, `y`, `n` in their spellings) and base-60 numbers (`15:00` is 900).
fn yaml_1_1_ambiguous(scalar: &str) -> bool {
    const WORDS: &[&str] = &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];
    let sexagesimal = {
        let mut parts = scalar.trim_start_matches(['-', '+']).split(':');
        let first = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        !first.is_empty()
            && first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && !rest.is_empty()
            && rest.iter().all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    WORDS.contains(&scalar) || sexagesimal
}

/// The generated YAML with every plain scalar that a YAML 1.1 parser would read differently
/// quoted: mapping keys, sequence items and values (the JSON served at `/api-docs/openapi.json`
/// has no such trap).
pub fn yaml_1_1_safe(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    // Inside a block scalar (`|`, `>` and their variants) lines are text: left alone.
    let mut block: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(parent) = block {
            if line.trim().is_empty() || indent > parent {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block = None;
        }
        let last = line.trim_end().rsplit(' ').next().unwrap_or_default();
        if matches!(last, "|" | "|-" | "|+" | ">" | ">-" | ">+") {
            block = Some(indent);
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let (lead, body) = line.split_at(indent);
        let (dash, body) = match body.strip_prefix("- ") {
            Some(rest) => ("- ", rest),
            None => ("", body),
        };
        let fixed = match body.split_once(": ") {
            Some((key, value)) => format!("{}: {}", quote_if_ambiguous(key), quote_if_ambiguous(value)),
            None => match body.strip_suffix(':') {
                Some(key) => format!("{}:", quote_if_ambiguous(key)),
                None => quote_if_ambiguous(body),
            },
        };
        out.push_str(lead);
        out.push_str(dash);
        out.push_str(&fixed);
        out.push('\n');
    }
    out
}

fn quote_if_ambiguous(scalar: &str) -> String {
    if yaml_1_1_ambiguous(scalar) { format!("'{scalar}'") } else { scalar.to_owned() }
}

#[cfg(test)]
mod yaml_tests {
    use super::*;

    #[test]
    fn words_and_base_60_numbers_are_quoted_for_yaml_1_1_readers() {
        let yaml = "properties:\n  no:\n    type: integer\n    description: |-\n      Note: no\n  cutoff_time:\n    example: 15:00\nrequired:\n- no\n- name\nnullable: true\n";
        let safe = yaml_1_1_safe(yaml);
        assert_eq!(
            safe,
            "properties:\n  'no':\n    type: integer\n    description: |-\n      Note: no\n  cutoff_time:\n    example: '15:00'\nrequired:\n- 'no'\n- name\nnullable: true\n",
            "text in a block scalar stays as written"
        );
        assert!(!yaml_1_1_ambiguous("1.001193.000.00.00.H14") && !yaml_1_1_ambiguous("true") && !yaml_1_1_ambiguous("note"));
    }
}
