//! Generated files stay in step with the code: `openapi.yaml` and `docs/ERRORS.md`.
//! Run with `UPDATE_GENERATED=1` to rewrite them (`make generate`).

use std::path::PathBuf;

fn check_generated(relative: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative);
    if std::env::var("UPDATE_GENERATED").is_ok() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "{relative} is stale: run `make generate` and commit it");
}

#[test]
fn openapi_yaml_is_up_to_date() {
    check_generated("openapi.yaml", &api::openapi_yaml());
}

#[test]
fn errors_md_is_up_to_date() {
    check_generated("docs/ERRORS.md", &api::error::errors_markdown());
}

#[test]
fn every_operation_documents_its_errors_and_security() {
    let spec = serde_json::to_value(api::server::openapi()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 18, "{}", paths.len());
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has an operationId");
            assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has a summary");
            let requirements = operation["security"].as_array().cloned().unwrap_or_default();
            assert!(!requirements.is_empty(), "{method} {path} declares its security (`[{{}}]` when public)");
            let secured = requirements.iter().any(|r| r.as_object().is_some_and(|o| !o.is_empty()));
            let responses = operation["responses"].as_object().unwrap();
            if secured {
                assert!(responses.contains_key("401"), "{method} {path} documents 401");
            }
        }
    }
}
