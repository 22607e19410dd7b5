//! Cases over HTTP: intake on every channel, codes, the lifecycle, history and public lookup.

use reqwest::Method;
use serde_json::{Value, json};

use crate::procedures::procedure;
use crate::support::*;
use crate::types::{Case, CaseDocument, CaseEvent, Lookup, Page, Tokens};

pub const CODE: &str = "1.001193.000.00.00.H14";
pub const NO_RESULT: &str = "2.000001.H14";

/// Creates the procedure `body` and takes it through publication.
pub async fn publish(app: &TestApp, f: &Fixture, body: Value) {
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(app.post("/api/v1/procedures", Some(&f.admin), body).await.status, 201);
    for (token, action) in [(&f.agency_admin, "propose"), (&f.supervisor, "review"), (&f.admin, "verify")] {
        app.post(&format!("/api/v1/procedures/{code}/publication/{action}"), Some(token), json!({})).await;
    }
    let published =
        app.post(&format!("/api/v1/procedures/{code}/publication/publish"), Some(&f.admin), json!({"decision_ref": "1/QĐ"})).await;
    assert_eq!(published.body["status"], "published", "{}", published.text);
}

pub struct World {
    pub app: TestApp,
    pub f: Fixture,
    /// An officer of commune A with every capability.
    pub clerk: String,
    pub citizen: String,
}

pub async fn world(backend: Backend) -> World {
    world_with(backend, |_| {}).await
}

pub async fn world_with(backend: Backend, adjust: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> World {
    world_on(TestApp::spawn_with(backend, adjust).await).await
}

/// The world on a server whose clock stands still at `at`.
pub async fn world_at(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> World {
    world_on(TestApp::spawn_at(backend, at).await).await
}

async fn world_on(app: TestApp) -> World {
    let f = app.fixture().await;
    publish(&app, &f, procedure(CODE, "Đăng ký khai sinh", &f.commune_a)).await;
    let mut simple = procedure(NO_RESULT, "Xác nhận đơn giản", &f.commune_a);
    simple["result"] = json!({"has_result": false});
    simple["form_schema"] = Value::Null;
    publish(&app, &f, simple).await;
    app.user(&f.admin, "clerk.a", "officer", Some(&f.commune_a), &["reception", "processing", "approval", "result_return"]).await;
    let clerk = app.token("clerk.a", PASSWORD).await;
    app.post("/api/v1/auth/register", None, citizen("citizen.a", 1)).await;
    let citizen = app.token("citizen.a", "citizen-pass-2026").await;
    World { app, f, clerk, citizen }
}

pub fn case_body(procedure_code: &str, channel: &str) -> Value {
    json!({
        "procedure_code": procedure_code,
        "channel": channel,
        "applicant": {"kind": "citizen", "full_name": "Nông Văn Bình", "id_type": "cccd", "id_number": "004099012345", "phone": "0912345678", "address": "Tổ 1, phường Thục Phán"},
        "summary": "Đăng ký khai sinh cho con",
        "form_data": {"child_name": "Nông Thị Mai"},
        "documents": [{"requirement_code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0}],
        "return_method": "counter"
    })
}

pub async fn act(app: &TestApp, token: &str, code: &str, action: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/cases/{code}/actions/{action}"), Some(token), body).await
}

backend_test! {
    async fn intake_on_every_channel_with_codes_and_due_dates(backend: Backend) {
        // Monday 30 November 2026, 09:00 in Vietnam, and the clock stands still.
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 2, 0, 0).unwrap();
        let w = world_at(backend, now).await;
        let (app, f) = (&w.app, &w.f);
        let response = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let counter = response.case(201);
        assert_eq!((counter.status.as_str(), counter.status_code), ("accepted", 2));
        let code = counter.code.clone();
        assert_eq!(code, "000.20.01.H14-261130-0001");
        // Five working days: Monday 7 December, 09:00.
        assert_eq!(counter.received_at, Some(now));
        assert_eq!(counter.due_at, Some(utc(2026, 12, 7, 2, 0)));
        assert_eq!(response.header("location"), Some(format!("/api/v1/cases/{code}").as_str()));
        let second = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "postal")).await.case(201);
        assert!(second.code.ends_with("-0002"), "{second:?}");

        let online = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await.case(201);
        assert_eq!(online.status, "submitted");
        assert_eq!(online.due_at, None);
        assert_eq!(online.available_actions, ["withdraw"]);
        let online_code = online.code;
        let asked = act(
            app,
            &w.clerk,
            &online_code,
            "request_supplement",
            json!({"reason": "Ảnh tờ khai bị mờ", "items": ["Tờ khai chụp rõ nét"]}),
        )
        .await
        .case(200);
        assert_eq!(asked.status, "submitted");
        act(app, &w.clerk, &online_code, "request_supplement", json!({"reason": "again", "items": ["x"]}))
            .await
            .assert_problem(409, "invalid_transition");
        let seen = app.get(&format!("/api/v1/cases/{online_code}"), Some(&w.citizen)).await.case(200);
        assert_eq!(seen.available_actions, ["submit_supplement", "withdraw"]);
        let answered = act(app, &w.citizen, &online_code, "submit_supplement", json!({"note": "Đã gửi lại"})).await.case(200);
        assert_eq!(answered.available_actions, ["withdraw"]);

        // Denials and bad input.
        app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "counter")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", Some(&f.officer), case_body(CODE, "online")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", Some(&f.supervisor), case_body(CODE, "counter")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", None, case_body(CODE, "counter")).await.assert_problem(401, "unauthorized");
        let mut other_agency = case_body(CODE, "counter");
        other_agency["agency_id"] = json!(f.commune_b);
        app.post("/api/v1/cases", Some(&w.clerk), other_agency).await.assert_problem(422, "validation_failed");
        let mut bad_form = case_body(CODE, "online");
        bad_form["form_data"] = json!({"child_name": 5});
        let refused = app.post("/api/v1/cases", Some(&w.citizen), bad_form).await.assert_problem(422, "validation_failed");
        assert!(refused.param_names()[0].starts_with("form_data"), "{refused:?}");
        let mut no_docs = case_body(CODE, "counter");
        no_docs["documents"] = json!([]);
        app.post("/api/v1/cases", Some(&w.clerk), no_docs).await.assert_problem(422, "validation_failed");
        let mut bad_id = case_body(CODE, "counter");
        bad_id["applicant"]["id_number"] = json!("123");
        let bad = app.post("/api/v1/cases", Some(&w.clerk), bad_id).await.assert_problem(422, "validation_failed");
        assert_eq!(bad.param_names(), ["applicant.id_number"]);
        app.post("/api/v1/cases", Some(&w.clerk), case_body("9.999999", "counter")).await.assert_problem(422, "validation_failed");
        app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "pigeon")).await.assert_problem(422, "validation_failed");

        // Cases forwarded by the national portal are idempotent by external id.
        app.user(&f.admin, "dvcqg", "integration", None, &["cases.submit", "cases.read"]).await;
        let form = [("grant_type", "client_credentials"), ("client_id", "dvcqg"), ("client_secret", PASSWORD)];
        let token = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&form).send().await.unwrap()).await;
        let portal = token.json::<Tokens>().access_token;
        let mut forwarded = case_body(CODE, "online");
        forwarded["external_id"] = json!("G22.991-250101-000123");
        let first = app.post("/api/v1/cases", Some(&portal), forwarded.clone()).await.case(201);
        assert_eq!(first.source, "national_portal");
        let again = app.post("/api/v1/cases", Some(&portal), forwarded).await.case(200);
        assert_eq!(again.code, first.code, "a retried delivery never creates a second case");
        app.post("/api/v1/cases", Some(&portal), case_body(CODE, "online")).await.assert_problem(422, "validation_failed");

        // Lists are scoped: the citizen sees their own, commune B's admin nothing.
        let mine: Page<Case> = app.get("/api/v1/cases", Some(&w.citizen)).await.json();
        assert_eq!(mine.items.len(), 1, "{mine:?}");
        let staff: Page<Case> = app.get("/api/v1/cases?limit=100", Some(&w.clerk)).await.json();
        assert_eq!(staff.items.len(), 4);
        app.user(&f.admin, "admin.b", "agency_admin", Some(&f.commune_b), &[]).await;
        let admin_b = app.token("admin.b", PASSWORD).await;
        assert!(app.get("/api/v1/cases", Some(&admin_b)).await.json::<Page<Case>>().items.is_empty());
        app.get(&format!("/api/v1/cases/{code}"), Some(&admin_b)).await.assert_problem(404, "not_found");
        app.get("/api/v1/cases?status=lost", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn the_lifecycle_runs_through_actions_with_guards_history_and_lookup(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let code = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await.case(201).code;

        act(app, &w.clerk, &code, "resolve", json!({})).await.assert_problem(409, "invalid_transition");
        let accepted = act(app, &w.clerk, &code, "accept", json!({})).await.case(200);
        assert_eq!(accepted.status, "accepted");
        let due_before = accepted.due_at.unwrap();
        let wrong = act(app, &w.clerk, &code, "return_result", json!({})).await.assert_problem(409, "invalid_transition");
        assert!(wrong.allowed_actions.iter().any(|a| a == "forward"), "{wrong:?}");
        act(app, &w.f.supervisor, &code, "forward", json!({})).await.assert_problem(403, "forbidden");
        act(app, &w.citizen, &code, "forward", json!({})).await.assert_problem(403, "forbidden");
        let lookup = |code: String| async move { app.get(&format!("/api/v1/lookup/cases/{code}"), None).await.json::<Lookup>() };
        assert_eq!(lookup(code.clone()).await.status, "accepted");
        let forwarded = act(app, &w.clerk, &code, "forward", json!({"to_step": "xu_ly"})).await.case(200);
        assert_eq!(lookup(code.clone()).await.status, "processing", "a change drops the cached answer");
        assert_eq!((forwarded.status.as_str(), forwarded.current_step.as_deref()), ("processing", Some("xu_ly")));
        assert_eq!(accepted.current_step.as_deref(), Some("xu_ly"), "acceptance leaves reception for the first processing step");
        assert!(forwarded.step_due_at.unwrap() <= forwarded.due_at.unwrap(), "{forwarded:?}");
        let approval = act(app, &w.clerk, &code, "forward", json!({})).await.case(200);
        assert_eq!(approval.current_step.as_deref(), Some("phe_duyet"));
        let back = act(app, &w.clerk, &code, "send_back", json!({"note": "Xem lại"})).await;
        assert_eq!((back.case(200).status.as_str(), back.case(200).current_step.as_deref()), ("processing", Some("xu_ly")));
        act(app, &w.clerk, &code, "forward", json!({"to_step": "nowhere"})).await.assert_problem(422, "validation_failed");
        let tag = back.header("etag").unwrap().to_owned();

        act(app, &w.clerk, &code, "request_supplement", json!({})).await.assert_problem(422, "validation_failed");
        let stale = app
            .send(
                Method::POST,
                &format!("/api/v1/cases/{code}/actions/request_supplement"),
                Some(&w.clerk),
                Some(json!({"reason": "x"})),
                &[("If-Match", "\"old\"")],
            )
            .await;
        stale.assert_problem(412, "precondition_failed");
        let paused = app
            .send(
                Method::POST,
                &format!("/api/v1/cases/{code}/actions/request_supplement"),
                Some(&w.clerk),
                Some(json!({"reason": "Thiếu giấy chứng sinh", "items": ["Giấy chứng sinh"], "deadline_days": 5})),
                &[("If-Match", &tag)],
            )
            .await
            .case(200);
        assert_eq!((paused.status.as_str(), paused.status_code, paused.supplement_count), ("supplement_requested", 5, 1));
        let resumed = act(app, &w.citizen, &code, "submit_supplement", json!({"note": "Đã bổ sung"})).await.case(200);
        assert_eq!(resumed.status, "processing");
        assert!(resumed.due_at.unwrap() >= due_before, "the pause never shortens the deadline");

        act(app, &w.clerk, &code, "apologize", json!({"reason": "Cần xác minh thêm"})).await.assert_problem(422, "validation_failed");
        let apology =
            act(app, &w.clerk, &code, "apologize", json!({"reason": "Cần xác minh thêm", "new_due_at": "2099-01-05T10:00:00Z"}))
                .await
                .case(200);
        assert_eq!(apology.due_at, Some(utc(2099, 1, 5, 10, 0)));
        assert_eq!(apology.original_due_at, resumed.due_at);
        let resolved = act(app, &w.clerk, &code, "resolve", json!({"summary": "Đã xác nhận"})).await.case(200);
        assert_eq!((resolved.status.as_str(), resolved.timeliness.as_deref()), ("resolved", Some("early")));
        let returned = act(app, &w.clerk, &code, "return_result", json!({"method": "counter"})).await.case(200);
        assert_eq!((returned.status.as_str(), returned.status_code), ("returned", 10));
        assert!(returned.available_actions.is_empty());
        act(app, &w.clerk, &code, "celebrate", json!({})).await.assert_problem(404, "not_found");

        // The applicant rates the returned case, once.
        let rating = format!("/api/v1/cases/{code}/rating");
        app.post(&rating, Some(&w.clerk), json!({"satisfaction": "satisfied"})).await.assert_problem(403, "forbidden");
        app.post(&rating, Some(&w.citizen), json!({"satisfaction": "ecstatic"})).await.assert_problem(422, "validation_failed");
        let rated = app.post(&rating, Some(&w.citizen), json!({"satisfaction": "very_satisfied", "comment": "Nhanh, chu đáo"})).await;
        assert_eq!(rated.status, 201, "{backend:?}: {}", rated.text);
        app.post(&rating, Some(&w.citizen), json!({"satisfaction": "unsatisfied"})).await.assert_problem(409, "conflict");

        let events: Vec<CaseEvent> = app.get(&format!("/api/v1/cases/{code}/events"), Some(&w.citizen)).await.json();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "submit",
                "accept",
                "forward",
                "forward",
                "send_back",
                "request_supplement",
                "submit_supplement",
                "apologize",
                "resolve",
                "return_result"
            ],
            "{backend:?}"
        );
        assert_eq!(events[5].note.as_deref(), Some("Thiếu giấy chứng sinh"));
        assert_eq!((events[5].from_status.as_deref(), events[5].to_status.as_str()), (Some("processing"), "supplement_requested"));
        let trail = app.get(&format!("/api/v1/audit?entity_type=case&entity_id={code}&limit=100"), Some(&w.f.supervisor)).await;
        assert_eq!(trail.json::<Page<serde_json::Value>>().items.len(), 11, "ten actions and the rating");
        assert!(app.get(&format!("/api/v1/cases/{code}"), Some(&w.f.supervisor)).await.case(200).available_actions.is_empty());

        // A procedure with a result cannot be resolved before the result document exists.
        let with_result = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await.case(201).code;
        act(app, &w.clerk, &with_result, "resolve", json!({})).await.assert_problem(409, "result_required");
        let withdrawn = act(app, &w.clerk, &with_result, "withdraw", json!({"reason": "Công dân xin rút"})).await.case(200);
        app.post(&format!("/api/v1/cases/{with_result}/rating"), Some(&w.citizen), json!({"satisfaction": "satisfied"}))
            .await
            .assert_problem(404, "not_found");
        assert_eq!(withdrawn.status, "withdrawn");

        // The public lookup shows the status and nothing personal.
        let lookup = app.get(&format!("/api/v1/lookup/cases/{code}"), None).await;
        assert_eq!(lookup.status, 200, "{}", lookup.text);
        let public: Lookup = lookup.json();
        assert_eq!((public.status_code, public.completion.as_str()), (10, "returned"));
        for secret in ["Nông Văn Bình", "004099012345", "0912345678", "Tổ 1", "Thiếu giấy"] {
            assert!(!lookup.text.contains(secret), "{backend:?}: the lookup leaks {secret}");
        }
        app.get("/api/v1/lookup/cases/000.20.01.H14-261128-9999", None).await.assert_problem(404, "not_found");
        app.get("/api/v1/lookup/cases/not-a-code", None).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/lookup/cases/{code}/more"), None).await.assert_problem(404, "not_found");
        app.get("/api/v1/lookup/cases/", None).await.assert_problem(404, "not_found");
        let wrong_method = app.post(&format!("/api/v1/lookup/cases/{code}"), None, json!({})).await;
        wrong_method.assert_problem(405, "method_not_allowed");
        assert_eq!(wrong_method.header("allow"), Some("GET"));
        let other = app.post("/api/v1/auth/register", None, citizen("citizen.b", 2)).await;
        assert_eq!(other.status, 201);
        let stranger = app.token("citizen.b", "citizen-pass-2026").await;
        app.get(&format!("/api/v1/cases/{code}"), Some(&stranger)).await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn concurrent_intake_gets_unique_consecutive_codes_and_lookup_is_rate_limited(backend: Backend) {
        let w = world(backend).await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (client, base, token) = (w.app.client.clone(), w.app.base.clone(), w.clerk.clone());
            tasks.push(tokio::spawn(async move {
                let resp =
                    client.post(format!("{base}/api/v1/cases")).bearer_auth(token).json(&case_body(CODE, "counter")).send().await.unwrap();
                into_resp(resp).await
            }));
        }
        let mut sequences = Vec::new();
        for task in tasks {
            let resp = task.await.unwrap();
            assert_eq!(resp.status, 201, "{backend:?}: {}", resp.text);
            sequences.push(resp.case(201).code.rsplit('-').next().unwrap().parse::<u32>().unwrap());
        }
        sequences.sort_unstable();
        assert_eq!(sequences, (1..=20).collect::<Vec<u32>>(), "{backend:?}");

        let limited = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOOKUP_RATE_PER_MINUTE".into(), "2".into());
        })
        .await;
        for _ in 0..2 {
            limited.get("/api/v1/lookup/cases/000.20.01.H14-261128-0001", None).await.assert_problem(404, "not_found");
        }
        let too_many = limited.get("/api/v1/lookup/cases/000.20.01.H14-261128-0001", None).await;
        too_many.assert_problem(429, "rate_limited");
        assert!(too_many.header("retry-after").is_some());
    }
}

pub async fn upload(app: &TestApp, token: &str, code: &str, kind: &'static str, bytes: &'static [u8]) -> Resp {
    use reqwest::multipart::{Form, Part};
    let form = Form::new().part("file", Part::bytes(bytes).file_name("giay-to.pdf")).text("kind", kind).text("requirement_code", "TK01");
    into_resp(
        app.client.post(format!("{}/api/v1/cases/{code}/documents", app.base)).bearer_auth(token).multipart(form).send().await.unwrap(),
    )
    .await
}

backend_test! {
    async fn documents_are_checked_scoped_and_a_result_unlocks_resolve(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let code = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await.case(201).code;
        let mine = upload(app, &w.citizen, &code, "application", b"%PDF-1.7 to khai").await;
        assert_eq!(mine.status, 201, "{backend:?}: {}", mine.text);
        assert_eq!(mine.json::<CaseDocument>().content_type, "application/pdf");
        upload(app, &w.citizen, &code, "result", b"%PDF-1.7 fake result").await.assert_problem(403, "forbidden");
        upload(app, &w.citizen, &code, "application", b"MZ\x90\x00 not a pdf").await.assert_problem(415, "unsupported_media_type");
        upload(app, &w.citizen, &code, "selfie", b"%PDF-1.7").await.assert_problem(422, "validation_failed");
        upload(app, &w.f.supervisor, &code, "application", b"%PDF-1.7").await.assert_problem(403, "forbidden");
        let listed: Vec<CaseDocument> = app.get(&format!("/api/v1/cases/{code}/documents"), Some(&w.clerk)).await.json();
        assert_eq!(listed.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(), ["application"]);
        let url = mine.header("location").unwrap().to_owned();
        let download = app.client.get(format!("{}{url}", app.base)).bearer_auth(&w.citizen).send().await.unwrap();
        assert_eq!(download.headers()["content-type"], "application/pdf");
        app.post("/api/v1/auth/register", None, citizen("citizen.c", 3)).await;
        let stranger = app.token("citizen.c", "citizen-pass-2026").await;
        let denied = into_resp(app.client.get(format!("{}{url}", app.base)).bearer_auth(&stranger).send().await.unwrap()).await;
        denied.assert_problem(404, "not_found");

        // Art. 19.4: no resolve without a result document.
        act(app, &w.clerk, &code, "accept", json!({})).await;
        act(app, &w.clerk, &code, "resolve", json!({})).await.assert_problem(409, "result_required");
        let result = upload(app, &w.clerk, &code, "result", b"%PDF-1.7 giay khai sinh").await;
        assert_eq!(result.status, 201, "{}", result.text);
        let resolved = act(app, &w.clerk, &code, "resolve", json!({"decision_number": "123/GKS"})).await.case(200);
        assert_eq!(resolved.status, "resolved");
        upload(app, &w.citizen, &code, "supplement", b"%PDF-1.7 late").await.assert_problem(409, "conflict");
    }
}

backend_test! {
    async fn inboxes_filter_in_the_query_and_other_agencies_see_nothing(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let code = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await.case(201).code;
        app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await;
        let count = |resp: &Resp| resp.json::<Page<Case>>().items.len();
        assert_eq!(count(&app.get("/api/v1/cases?q=nong%20van%20binh", Some(&w.clerk)).await), 2, "{backend:?}");
        assert_eq!(count(&app.get(&format!("/api/v1/cases?q={code}"), Some(&w.clerk)).await), 1);
        assert_eq!(count(&app.get("/api/v1/cases?q=tran%20thi", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?overdue=true", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?status=accepted&due_before=2999-01-01T00:00:00Z", Some(&w.clerk)).await), 1);
        assert_eq!(count(&app.get("/api/v1/cases?received_from=2999-01-01T00:00:00Z", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?channel=online", Some(&w.clerk)).await), 1);
        app.get("/api/v1/cases?overdue=maybe", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/cases?due_before=tomorrow", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        assert_eq!(count(&app.get("/api/v1/me/cases", Some(&w.citizen)).await), 1);
        app.get("/api/v1/me/cases", Some(&w.clerk)).await.assert_problem(403, "forbidden");

        // An officer of commune B can neither read, list, act on nor download from commune A's case.
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception", "processing", "approval", "result_return"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        app.get(&format!("/api/v1/cases/{code}"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        assert_eq!(count(&app.get("/api/v1/cases", Some(&clerk_b)).await), 0);
        act(app, &clerk_b, &code, "forward", json!({})).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{code}/events"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{code}/documents"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        upload(app, &clerk_b, &code, "result", b"%PDF-1.7").await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn payments_supplements_and_the_result_show_in_the_case(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await.case(201);
        let code = counter.code.clone();
        assert!(counter.supplement_requests.is_some(), "single-case answers carry the history: {counter:?}");
        act(app, &w.clerk, &code, "forward", json!({})).await;
        act(app, &w.clerk, &code, "request_payment", json!({})).await.assert_problem(422, "validation_failed");
        let billed = act(app, &w.clerk, &code, "request_payment", json!({"items": ["Lệ phí cấp bản sao: 8.000 đồng"]})).await.case(200);
        assert_eq!((billed.status.as_str(), billed.status_code), ("awaiting_payment", 6));
        let paid = act(app, &w.clerk, &code, "confirm_payment", json!({"receipt": "BL-0042"})).await.case(200);
        assert_eq!(paid.status, "processing");
        let payments = paid.payments.unwrap();
        assert_eq!(payments[0].receipt.as_deref(), Some("BL-0042"));
        assert_eq!(payments[0].items, ["Lệ phí cấp bản sao: 8.000 đồng"]);
        act(app, &w.clerk, &code, "request_supplement", json!({"reason": "Thiếu bản sao", "items": ["Bản sao CCCD"], "deadline_days": 3}))
            .await;
        let supplied = act(app, &w.clerk, &code, "submit_supplement", json!({"note": "Công dân nộp tại quầy"})).await.case(200);
        let request = &supplied.supplement_requests.unwrap()[0];
        assert_eq!(request.items, ["Bản sao CCCD"]);
        assert!(request.deadline_at.is_some() && request.supplied_at.is_some(), "{request:?}");
        assert_eq!(upload(app, &w.clerk, &code, "result", b"%PDF-1.7 ket qua").await.status, 201);
        act(app, &w.clerk, &code, "resolve", json!({"summary": "Cấp bản sao", "decision_number": "15/CT", "signer": "Phó Chủ tịch"})).await;
        let returned =
            act(app, &w.clerk, &code, "return_result", json!({"method": "counter", "recipient": "Nông Văn Bình"})).await.case(200);
        let result = returned.result.unwrap();
        assert_eq!((result.decision_number.as_deref(), result.method.as_deref()), (Some("15/CT"), Some("counter")));
        assert!(result.returned_at.is_some());
        let listed: Page<Case> = app.get("/api/v1/cases?limit=5", Some(&w.clerk)).await.json();
        assert!(listed.items[0].payments.is_none(), "lists stay light: {listed:?}");
    }
}
