//! Users and agencies: every role allowed and denied, subtree scope, disable/enable, ledger.

use reqwest::Method;
use serde_json::json;

use crate::support::*;
use crate::types::{Agency, LedgerEntry, Page, Tokens, User};

backend_test! {
    async fn agency_endpoints_allow_reads_to_anyone_and_writes_to_system_admins(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let list: Page<Agency> = app.get("/api/v1/agencies?limit=2", None).await.expect(200);
        assert_eq!(list.items.len(), 2);
        let next = list.next_cursor.unwrap();
        let rest: Page<Agency> = app.get(&format!("/api/v1/agencies?limit=10&cursor={next}"), None).await.expect(200);
        assert_eq!(rest.items.len(), 2);
        assert!(rest.next_cursor.is_none());

        let found: Page<Agency> = app.get("/api/v1/agencies?q=thuc%20phan", None).await.expect(200);
        assert_eq!(found.items[0].code, "000.20.01.H14", "{backend:?}: diacritic-insensitive search");
        let children: Page<Agency> = app.get(&format!("/api/v1/agencies?parent_id={}&level=commune", f.province), None).await.expect(200);
        assert!(children.items.iter().all(|a| a.level == "commune" && a.parent_id.as_ref() == Some(&f.province)));
        assert_eq!(children.items.len(), 2);
        app.get("/api/v1/agencies?level=planet", None).await.assert_problem(422, "validation_failed");
        let one: Agency = app.get(&format!("/api/v1/agencies/{}", f.province), Some(&f.officer)).await.expect(200);
        assert_eq!(one.name, "UBND tỉnh Cao Bằng");
        app.get("/api/v1/agencies/unknown", None).await.assert_problem(404, "not_found");

        let body = json!({"code": "000.00.11.H14", "name": "Sở Tài chính", "level": "department", "parent_id": f.province});
        for token in [&f.agency_admin, &f.officer, &f.supervisor] {
            app.post("/api/v1/agencies", Some(token), body.clone()).await.assert_problem(403, "forbidden");
            app.patch(&format!("/api/v1/agencies/{}", f.province), Some(token), json!({"name": "x"}))
                .await
                .assert_problem(403, "forbidden");
        }
        app.post("/api/v1/agencies", None, body.clone()).await.assert_problem(401, "unauthorized");
        assert_eq!(app.post("/api/v1/agencies", Some(&f.admin), body.clone()).await.status, 201);
        app.post("/api/v1/agencies", Some(&f.admin), body).await.assert_problem(409, "duplicate_agency_code");
        let bad = app.post("/api/v1/agencies", Some(&f.admin), json!({"code": "H14", "name": "x", "level": "province"})).await;
        assert_eq!(bad.assert_problem(422, "validation_failed").param_names(), ["code"]);
        let orphan = app
            .post(
                "/api/v1/agencies",
                Some(&f.admin),
                json!({"code": "000.00.99.H14", "name": "x", "level": "unit", "parent_id": "missing"}),
            )
            .await;
        orphan.assert_problem(422, "validation_failed");
        let renamed = app
            .patch(
                &format!("/api/v1/agencies/{}", f.department),
                Some(&f.admin),
                json!({"name": "Sở Tư pháp tỉnh Cao Bằng", "active": false}),
            )
            .await
            .expect::<Agency>(200);
        assert_eq!((renamed.name.as_str(), renamed.active), ("Sở Tư pháp tỉnh Cao Bằng", false));
    }
}

backend_test! {
    async fn user_administration_is_scoped_to_the_admins_subtree(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        // The agency admin of commune A creates an officer there, but nothing in commune B.
        let mine = app.user(&f.agency_admin, "officer.a2", "officer", Some(&f.commune_a), &["processing"]).await;
        let outside = app
            .post(
                "/api/v1/users",
                Some(&f.agency_admin),
                json!({"username": "officer.b", "password": PASSWORD, "full_name": "B", "role": "officer", "agency_id": f.commune_b, "capabilities": []}),
            )
            .await;
        outside.assert_problem(403, "forbidden");
        for role in ["system_admin", "supervisor", "integration"] {
            let denied = app
                .post(
                    "/api/v1/users",
                    Some(&f.agency_admin),
                    json!({"username": format!("x.{role}"), "password": PASSWORD, "full_name": "X", "role": role}),
                )
                .await;
            denied.assert_problem(403, "forbidden");
        }
        // Officers, supervisors and anonymous callers administer nothing.
        for token in [&f.officer, &f.supervisor] {
            app.get("/api/v1/users", Some(token)).await.assert_problem(403, "forbidden");
            app.get(&format!("/api/v1/users/{mine}"), Some(token)).await.assert_problem(403, "forbidden");
            app.post(&format!("/api/v1/users/{mine}/disable"), Some(token), json!({})).await.assert_problem(403, "forbidden");
        }
        app.get("/api/v1/users", None).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/auth/register", None, citizen("citizen.x", 9)).await;
        let citizen_token = app.token("citizen.x", "citizen-pass-2026").await;
        app.get("/api/v1/users", Some(&citizen_token)).await.assert_problem(403, "forbidden");
        app.get(&format!("/api/v1/users/{mine}"), Some(&citizen_token)).await.assert_problem(403, "forbidden");
        let by_citizen = app
            .post(
                "/api/v1/users",
                Some(&citizen_token),
                json!({"username": "x.c", "password": PASSWORD, "full_name": "X", "role": "officer", "agency_id": f.commune_a}),
            )
            .await;
        by_citizen.assert_problem(403, "forbidden");
        let agency = json!({"code": "000.00.77.H14", "name": "X", "level": "unit"});
        app.post("/api/v1/agencies", Some(&citizen_token), agency).await.assert_problem(403, "forbidden");
        app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_a), Some(&citizen_token)).await.assert_problem(403, "forbidden");
        app.get("/api/v1/audit", Some(&citizen_token)).await.assert_problem(403, "forbidden");

        // The agency admin sees its subtree only; the system admin sees everyone.
        let b_officer = app.user(&f.admin, "officer.b", "officer", Some(&f.commune_b), &[]).await;
        let listed: Page<User> = app.get("/api/v1/users?limit=100", Some(&f.agency_admin)).await.expect(200);
        let names: Vec<&str> = listed.items.iter().map(|u| u.username.as_str()).collect();
        assert!(
            names.contains(&"officer.a2") && names.contains(&"officer.a") && !names.contains(&"officer.b") && !names.contains(&"admin"),
            "{backend:?}: {names:?}"
        );
        app.get(&format!("/api/v1/users/{b_officer}"), Some(&f.agency_admin)).await.assert_problem(404, "not_found");
        app.patch(&format!("/api/v1/users/{b_officer}"), Some(&f.agency_admin), json!({"full_name": "x"}))
            .await
            .assert_problem(404, "not_found");
        let all: Page<User> = app.get("/api/v1/users?limit=100&role=officer", Some(&f.admin)).await.expect(200);
        assert_eq!(all.items.len(), 3, "{backend:?}: {all:?}");
        assert!(all.items.iter().all(|u| u.role == "officer"));
        let searched: Page<User> = app.get("/api/v1/users?q=officer.a2", Some(&f.admin)).await.expect(200);
        assert_eq!(searched.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["officer.a2"]);
        app.get("/api/v1/users?role=emperor", Some(&f.admin)).await.assert_problem(422, "validation_failed");

        // Validation of roles and grants.
        let caps = app
            .post("/api/v1/users", Some(&f.admin), json!({"username": "cap.x", "password": PASSWORD, "full_name": "X", "role": "officer", "agency_id": f.commune_a, "capabilities": ["flying"]}))
            .await;
        caps.assert_problem(422, "validation_failed");
        let no_agency = app
            .post("/api/v1/users", Some(&f.admin), json!({"username": "cap.y", "password": PASSWORD, "full_name": "X", "role": "officer"}))
            .await;
        no_agency.assert_problem(422, "validation_failed");
        let citizen = app
            .post("/api/v1/users", Some(&f.admin), json!({"username": "cit.z", "password": PASSWORD, "full_name": "X", "role": "citizen"}))
            .await;
        citizen.assert_problem(422, "validation_failed");
        let dup = app
            .post(
                "/api/v1/users",
                Some(&f.admin),
                json!({"username": "OFFICER.A", "password": PASSWORD, "full_name": "X", "role": "supervisor"}),
            )
            .await;
        dup.assert_problem(409, "duplicate_username");

        // An edit of capabilities by the agency admin works and is reflected at once.
        let edited =
            app.patch(&format!("/api/v1/users/{mine}"), Some(&f.agency_admin), json!({"capabilities": ["processing", "approval"]})).await;
        assert_eq!(edited.status, 200, "{}", edited.text);
        assert_eq!(edited.body["capabilities"], json!(["approval", "processing"]));
        let self_edit = app.patch(&format!("/api/v1/users/{}", f.agency_admin_id), Some(&f.agency_admin), json!({"role": "officer"})).await;
        self_edit.assert_problem(409, "conflict");
    }
}

backend_test! {
    async fn a_disabled_users_token_is_refused_at_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let refresh = app.login_pair("officer.a", PASSWORD).await.expect::<Tokens>(200).refresh_token.unwrap();
        assert_eq!(app.get("/api/v1/me", Some(&f.officer)).await.status, 200);
        let disabled = app.post(&format!("/api/v1/users/{}/disable", f.officer_id), Some(&f.agency_admin), json!({})).await;
        assert!(!disabled.expect::<User>(200).active, "{backend:?}");
        app.get("/api/v1/me", Some(&f.officer)).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await.assert_problem(401, "unauthorized");
        app.login_pair("officer.a", PASSWORD).await.assert_problem(401, "invalid_credentials");

        let enabled = app.post(&format!("/api/v1/users/{}/enable", f.officer_id), Some(&f.admin), json!({})).await;
        assert_eq!(enabled.status, 200);
        assert_eq!(app.login_pair("officer.a", PASSWORD).await.status, 200);
        app.post(&format!("/api/v1/users/{}/disable", f.agency_admin_id), Some(&f.agency_admin), json!({}))
            .await
            .assert_problem(409, "conflict");
    }
}

backend_test! {
    async fn a_role_change_takes_effect_for_existing_tokens(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let promoted = app.patch(&format!("/api/v1/users/{}", f.officer_id), Some(&f.admin), json!({"role": "agency_admin"})).await;
        assert_eq!(promoted.status, 200, "{backend:?}: {}", promoted.text);
        assert_eq!(promoted.body["capabilities"], json!([]));
        app.get("/api/v1/me", Some(&f.officer)).await.assert_problem(401, "unauthorized");
        let fresh = app.token("officer.a", PASSWORD).await;
        assert_eq!(app.get("/api/v1/users", Some(&fresh)).await.status, 200);
    }
}

backend_test! {
    async fn the_role_ledger_records_grants_and_revocations(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        app.send(
            Method::POST,
            &format!("/api/v1/users/{}/disable", f.officer_id),
            Some(&f.admin),
            Some(json!({})),
            &[("X-Audit-Reason", "Chuyển công tác")],
        )
        .await;
        let ledger = app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_a), Some(&f.supervisor)).await;
        let items = ledger.expect::<Page<LedgerEntry>>(200).items;
        let actions: Vec<(&str, &str, &str)> =
            items.iter().map(|i| (i.action.as_str(), i.role.as_str(), i.subject_username.as_deref().unwrap_or_default())).collect();
        assert_eq!(
            actions,
            vec![("grant", "agency_admin", "admin.a"), ("grant", "officer", "officer.a"), ("revoke", "officer", "officer.a")],
            "{backend:?}"
        );
        assert_eq!((items[2].reason.as_deref(), items[2].actor_username.as_deref()), (Some("Chuyển công tác"), Some("admin")));
        assert_eq!(items[1].capabilities, ["reception"]);

        assert_eq!(app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_a), Some(&f.agency_admin)).await.status, 200);
        app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_b), Some(&f.agency_admin)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_a), Some(&f.officer)).await.assert_problem(401, "unauthorized");
        app.user(&f.admin, "officer.c", "officer", Some(&f.commune_a), &[]).await;
        let other_officer = app.token("officer.c", PASSWORD).await;
        app.get(&format!("/api/v1/agencies/{}/role-ledger", f.commune_a), Some(&other_officer)).await.assert_problem(403, "forbidden");
    }
}

backend_test! {
    /// Writes that arrive together are committed together on SQLite (group commit): each still gets
    /// its own answer, and one that fails undoes its own writes only.
    async fn concurrent_writes_each_get_their_own_answer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let mut grouped = false;
        for burst in 0..5 {
            // 30 new codes and 10 requests for one code: one of those is created, 9 are refused.
            let mut requests = Vec::new();
            for i in 0..40 {
                let code = if i < 30 { format!("000.{burst}5.{i:02}.H14") } else { format!("000.{burst}9.99.H14") };
                let body = json!({"code": code, "name": format!("Đơn vị {i}"), "level": "unit", "parent_id": f.province});
                let request = app.client.post(format!("{}/api/v1/agencies", app.base)).bearer_auth(&f.admin).json(&body);
                requests.push(tokio::spawn(async move { into_resp(request.send().await.unwrap()).await }));
            }
            let mut answers = Vec::new();
            for request in requests {
                answers.push(request.await.unwrap());
            }
            for (i, answer) in answers.iter().enumerate().take(30) {
                assert_eq!(answer.expect::<Agency>(201).name, format!("Đơn vị {i}"), "{backend:?}: request {i}");
            }
            let created = answers[30..].iter().filter(|a| a.status == 201).count();
            assert_eq!(created, 1, "{backend:?}: one of the requests for one code creates it");
            for refused in answers[30..].iter().filter(|a| a.status != 201) {
                refused.assert_problem(409, "duplicate_agency_code");
            }
            let (mut listed, mut cursor) = (0, String::new());
            loop {
                let at = if cursor.is_empty() { String::new() } else { format!("&cursor={cursor}") };
                let page: Page<Agency> = app.get(&format!("/api/v1/agencies?limit=100{at}"), None).await.expect(200);
                listed += page.items.len();
                match page.next_cursor {
                    Some(next) => cursor = next,
                    None => break,
                }
            }
            assert_eq!(listed, 4 + 31 * (burst + 1), "{backend:?}");
            if backend == Backend::Postgres {
                grouped = true;
                break;
            }
            let metrics = app.get("/metrics", None).await.text;
            let read = |name: &str| -> u64 {
                metrics
                    .lines()
                    .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
                    .unwrap_or_else(|| panic!("{name}: {metrics}"))
            };
            if read("motcua_sqlite_write_commits_total ") < read("motcua_sqlite_writes_total ") {
                grouped = true;
                break;
            }
        }
        assert!(grouped, "{backend:?}: no two writes were committed together");
    }
}
