//! The audit trail: an entry per change, and a chain that catches tampering.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

backend_test! {
    async fn every_change_is_audited_and_verify_catches_a_tampered_row(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let created = app
            .send(
                Method::POST,
                "/api/v1/agencies",
                Some(&f.admin),
                Some(json!({"code": "000.00.11.H14", "name": "Sở Tài chính", "level": "department", "parent_id": f.province})),
                &[("X-Audit-Reason", "Quyết định 123/QĐ-UBND"), ("X-Request-Id", "req-audit-1")],
            )
            .await;
        let agency_id = created.body["id"].as_str().unwrap().to_owned();
        app.patch(&format!("/api/v1/agencies/{agency_id}"), Some(&f.admin), json!({"name": "Sở Tài chính tỉnh Cao Bằng"})).await;

        let trail = app.get(&format!("/api/v1/audit?entity_type=agency&entity_id={agency_id}"), Some(&f.supervisor)).await;
        assert_eq!(trail.status, 200, "{backend:?}: {}", trail.text);
        let items = trail.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["action"], "agency.create");
        assert_eq!(items[0]["reason"], "Quyết định 123/QĐ-UBND");
        assert_eq!(items[0]["request_id"], "req-audit-1");
        assert!(items[0]["before_digest"].is_null() && items[0]["after_digest"].is_string());
        assert_eq!(items[1]["action"], "agency.update");
        assert_eq!(items[1]["before_digest"], items[0]["after_digest"]);

        // The fixture's writes are there too: 4 agencies and 3 accounts, plus the admin.
        let all = app.get("/api/v1/audit?limit=100", Some(&f.admin)).await;
        let actions: Vec<&str> = all.body["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "user.create").count(), 4, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "agency.create").count(), 5, "{actions:?}");
        let paged = app.get("/api/v1/audit?limit=3", Some(&f.admin)).await;
        let next = paged.body["next_cursor"].as_str().unwrap();
        let page2 = app.get(&format!("/api/v1/audit?limit=3&cursor={next}"), Some(&f.admin)).await;
        assert_eq!(page2.body["items"][0]["seq"], 4);

        let ok = app.get("/api/v1/audit/verify", Some(&f.supervisor)).await;
        assert_eq!(ok.body["ok"], true, "{backend:?}: {}", ok.text);
        assert_eq!(ok.body["entries"], 10);

        // Denials: officers and agency admins do not read the trail; there is no way to change it.
        app.get("/api/v1/audit", Some(&f.officer)).await.assert_problem(403, "forbidden");
        app.get("/api/v1/audit/verify", Some(&f.agency_admin)).await.assert_problem(403, "forbidden");
        app.request(Method::DELETE, "/api/v1/audit", Some(&f.admin), None).await.assert_problem(405, "method_not_allowed");

        // The database itself refuses edits; an attacker who drops the guard is still caught.
        let mut conn = app.db.connect();
        assert!(
            persistence::db::execute_raw(&mut conn, "UPDATE audit_log SET reason = 'x' WHERE seq = 3").is_err(),
            "{backend:?}: trigger"
        );
        let drop_guard = match backend {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
            Backend::Postgres => "DROP TRIGGER audit_log_no_update ON audit_log",
        };
        persistence::db::execute_raw(&mut conn, drop_guard).unwrap();
        persistence::db::execute_raw(&mut conn, "UPDATE audit_log SET entity_id = 'forged' WHERE seq = 3").unwrap();
        let broken = app.get("/api/v1/audit/verify", Some(&f.admin)).await;
        assert_eq!(broken.body["ok"], false, "{backend:?}: {}", broken.text);
        assert_eq!(broken.body["first_broken_seq"], 3);
    }
}

backend_test! {
    async fn verify_catches_a_deleted_newest_row(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        app.agency(&admin, "000.00.00.H14", "UBND tỉnh", "province", None).await;
        // Reading the trail chains what was committed; then the attacker strikes.
        assert_eq!(app.get("/api/v1/audit/verify", Some(&admin)).await.body["ok"], true);
        let mut conn = app.db.connect();
        let drop_guard = match backend {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
            Backend::Postgres => "DROP TRIGGER audit_log_no_update ON audit_log",
        };
        persistence::db::execute_raw(&mut conn, drop_guard).unwrap();
        persistence::db::execute_raw(&mut conn, "DELETE FROM audit_log WHERE seq = 2").unwrap();
        let broken = app.get("/api/v1/audit/verify", Some(&admin)).await;
        assert_eq!(broken.body["ok"], false, "{backend:?}: {}", broken.text);
        assert_eq!(broken.body["first_broken_seq"], 2);
    }
}
