//! The procedure catalogue over HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;
use crate::types::{AuditEntry, Faq, Page, Procedure, ProcedureVersion, Workflow};

/// The public view of a procedure at `path`.
async fn read(app: &TestApp, path: &str) -> Procedure {
    app.get(path, None).await.expect(200)
}

pub fn procedure(code: &str, name: &str, agency: &str) -> Value {
    json!({
        "code": code,
        "national_code": "1.001193",
        "name": name,
        "sector": "Tư pháp",
        "field": {"code": "G09-HT", "name": "Hộ tịch"},
        "levels": ["commune"],
        "agency_ids": [agency],
        "online_level": "4",
        "processing_time": {"value": 5, "unit": "working_day"},
        "online_processing_time": {"value": 3, "unit": "working_day"},
        "cutoff_time": "15:00",
        "fees": [{"amount": 8000, "description": "Lệ phí"}],
        "required_documents": [{"code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0, "mandatory": true}],
        "result": {"code": "KQ01", "name": "Giấy khai sinh", "has_result": true},
        "legal_basis": [{"number": "123/2015/NĐ-CP", "title": "Nghị định hướng dẫn Luật Hộ tịch"}],
        "form_schema": {"type": "object", "required": ["child_name"], "properties": {"child_name": {"type": "string"}}}
    })
}

async fn step(app: &TestApp, token: &str, code: &str, action: &str, body: Option<Value>) -> Resp {
    app.request(Method::POST, &format!("/api/v1/procedures/{code}/publication/{action}"), Some(token), body).await
}

backend_test! {
    async fn the_publication_lifecycle_runs_by_role_and_amendments_keep_the_published_version(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let code = "1.001193.000.00.00.H14";
        let created: Procedure =
            app.post("/api/v1/procedures", Some(&f.agency_admin), procedure(code, "Đăng ký khai sinh", &f.commune_a)).await.expect(201);
        assert_eq!(created.status, "draft");
        assert_eq!((created.online_level.as_str(), created.online_level_legacy), ("full", Some(4)), "legacy 4 maps to full");
        assert_eq!(created.channels, ["counter", "online", "postal"]);
        app.get(&format!("/api/v1/procedures/{code}"), None).await.assert_problem(404, "not_found");
        assert_eq!(app.get(&format!("/api/v1/procedures/{code}"), Some(&f.officer)).await.expect::<Procedure>(200).status, "draft");

        step(&app, &f.officer, code, "propose", None).await.assert_problem(403, "forbidden");
        assert_eq!(step(&app, &f.agency_admin, code, "propose", None).await.expect::<Procedure>(200).status, "proposed");
        step(&app, &f.admin, code, "review", None).await.assert_problem(403, "forbidden");
        assert_eq!(step(&app, &f.supervisor, code, "review", None).await.expect::<Procedure>(200).status, "reviewed");
        let early = step(&app, &f.admin, code, "publish", Some(json!({"decision_ref": "1/QĐ-UBND"}))).await;
        assert_eq!(early.assert_problem(409, "invalid_transition").allowed_actions, ["verify", "abolish"], "{backend:?}");
        assert_eq!(step(&app, &f.admin, code, "verify", None).await.expect::<Procedure>(200).status, "verified");
        step(&app, &f.admin, code, "publish", None).await.assert_problem(422, "validation_failed");
        let published: Procedure = step(&app, &f.admin, code, "publish", Some(json!({"decision_ref": "1234/QĐ-UBND"}))).await.expect(200);
        assert_eq!((published.status.as_str(), published.current), ("published", true));
        assert_eq!(published.decision_ref.as_deref(), Some("1234/QĐ-UBND"));
        step(&app, &f.admin, "9.999999", "propose", None).await.assert_problem(404, "not_found");
        step(&app, &f.admin, code, "celebrate", None).await.assert_problem(404, "not_found");

        let public = app.get(&format!("/api/v1/procedures/{code}"), None).await;
        assert_eq!(public.expect::<Procedure>(200).version, 1);
        let tag = public.header("etag").unwrap().to_owned();
        let cached = app.send(Method::GET, &format!("/api/v1/procedures/{code}"), None, None, &[("If-None-Match", &tag)]).await;
        assert_eq!(cached.status, 304);

        // An amendment is a new draft; the published version keeps serving.
        let mut amended = procedure(code, "Đăng ký khai sinh (sửa đổi)", &f.commune_a);
        amended.as_object_mut().unwrap().remove("code");
        let stale = app
            .send(
                Method::PUT,
                &format!("/api/v1/procedures/{code}"),
                Some(&f.admin),
                Some(amended.clone()),
                &[("If-Match", "\"0-draft-x\"")],
            )
            .await;
        stale.assert_problem(412, "precondition_failed");
        let v2 = app.send(Method::PUT, &format!("/api/v1/procedures/{code}"), Some(&f.admin), Some(amended), &[("If-Match", &tag)]).await;
        let v2: Procedure = v2.expect(200);
        assert_eq!((v2.version, v2.status.as_str()), (2, "draft"));
        assert_eq!(read(&app, &format!("/api/v1/procedures/{code}")).await.name, "Đăng ký khai sinh");
        for action in ["propose", "review", "verify"] {
            let token = match action {
                "propose" => &f.agency_admin,
                "review" => &f.supervisor,
                _ => &f.admin,
            };
            assert_eq!(step(&app, token, code, action, None).await.status, 200, "{action}");
        }
        step(&app, &f.admin, code, "publish", Some(json!({"decision_ref": "2000/QĐ-UBND"}))).await;
        let now = read(&app, &format!("/api/v1/procedures/{code}")).await;
        assert_eq!((now.version, now.name.as_str()), (2, "Đăng ký khai sinh (sửa đổi)"));
        let old = read(&app, &format!("/api/v1/procedures/{code}?version=1")).await;
        assert_eq!((old.name.as_str(), old.current), ("Đăng ký khai sinh", false), "old versions stay readable");
        let versions: Vec<ProcedureVersion> = app.get(&format!("/api/v1/procedures/{code}/versions"), Some(&f.supervisor)).await.expect(200);
        assert_eq!(versions.iter().map(|v| (v.version, v.current, v.latest)).collect::<Vec<_>>(), [(1, false, false), (2, true, true)]);
        app.get(&format!("/api/v1/procedures/{code}/versions"), None).await.assert_problem(401, "unauthorized");

        // Withdraw takes it off the portal; abolish ends it.
        step(&app, &f.admin, code, "withdraw", None).await;
        app.get(&format!("/api/v1/procedures/{code}"), None).await.assert_problem(404, "not_found");
        assert_eq!(step(&app, &f.admin, code, "abolish", None).await.expect::<Procedure>(200).status, "abolished");
        let mut again = procedure(code, "x", &f.commune_a);
        again.as_object_mut().unwrap().remove("code");
        app.request(Method::PUT, &format!("/api/v1/procedures/{code}"), Some(&f.admin), Some(again))
            .await
            .assert_problem(409, "invalid_transition");
        let trail: Page<AuditEntry> =
            app.get(&format!("/api/v1/audit?entity_type=procedure&entity_id={code}&limit=100"), Some(&f.admin)).await.expect(200);
        let actions: Vec<&str> = trail.items.iter().map(|i| i.action.as_str()).collect();
        assert_eq!(actions.first(), Some(&"procedure.create"));
        assert!(
            actions.contains(&"procedure.publish") && actions.contains(&"procedure.amend") && actions.contains(&"procedure.abolish"),
            "{actions:?}"
        );

        // Scope: an agency admin cannot create procedures for another commune, nor propose them.
        let other = app.post("/api/v1/procedures", Some(&f.agency_admin), procedure("2.000001.H14", "Khác", &f.commune_b)).await;
        other.assert_problem(403, "forbidden");
        app.post("/api/v1/procedures", Some(&f.officer), procedure("2.000002.H14", "Khác", &f.commune_a))
            .await
            .assert_problem(403, "forbidden");
        app.post("/api/v1/procedures", Some(&f.admin), procedure(code, "Trùng", &f.commune_a))
            .await
            .assert_problem(409, "duplicate_procedure_code");
    }
}

backend_test! {
    async fn the_catalogue_is_searchable_and_filterable(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let publish = |code: &'static str, name: &'static str, agency: String, level: &'static str| {
            let (app, admin, supervisor) = (&app, f.admin.clone(), f.supervisor.clone());
            async move {
                let mut body = procedure(code, name, &agency);
                body["online_level"] = json!(level);
                assert_eq!(app.post("/api/v1/procedures", Some(&admin), body).await.status, 201);
                step(app, &admin, code, "propose", None).await;
                step(app, &supervisor, code, "review", None).await;
                step(app, &admin, code, "verify", None).await;
                step(app, &admin, code, "publish", Some(json!({"decision_ref": "1/QĐ"}))).await;
            }
        };
        publish("1.001193.000.00.00.H14", "Đăng ký khai sinh", f.commune_a.clone(), "full").await;
        publish("1.001612.000.00.00.H14", "Đăng ký hộ kinh doanh", f.commune_b.clone(), "partial").await;
        publish("2.000884.H14", "Chứng thực bản sao từ bản chính (50% phí)", f.commune_a.clone(), "info").await;
        app.post("/api/v1/procedures", Some(&f.admin), procedure("2.000999.H14", "Đăng ký kết hôn (dự thảo)", &f.commune_a)).await;

        let codes = |resp: &Resp| resp.expect::<Page<Procedure>>(200).items.into_iter().map(|p| p.code).collect::<Vec<_>>();
        let all = app.get("/api/v1/procedures", None).await;
        assert_eq!(codes(&all).len(), 3, "{backend:?}: drafts are not public");
        assert_eq!(codes(&app.get("/api/v1/procedures?q=dang%20ky%20ho%20kinh%20doanh", None).await), ["1.001612.000.00.00.H14"]);
        assert_eq!(
            codes(&app.get("/api/v1/procedures?q=%C4%90A%CC%86NG%20KY%CC%81%20KHAI", None).await),
            ["1.001193.000.00.00.H14"],
            "NFD and upper case"
        );
        assert_eq!(codes(&app.get("/api/v1/procedures?q=50%25", None).await), ["2.000884.H14"], "% is a literal");
        assert!(codes(&app.get("/api/v1/procedures?q=_", None).await).is_empty(), "_ is a literal");
        assert_eq!(codes(&app.get("/api/v1/procedures?online_level=3", None).await), ["1.001612.000.00.00.H14"]);
        assert_eq!(codes(&app.get(&format!("/api/v1/procedures?agency_id={}", f.commune_b), None).await), ["1.001612.000.00.00.H14"]);
        assert_eq!(codes(&app.get("/api/v1/procedures?level=commune&field=G09-HT&sector=T%C6%B0%20ph%C3%A1p", None).await).len(), 3);
        assert!(codes(&app.get("/api/v1/procedures?level=province", None).await).is_empty());
        let next = app.get("/api/v1/procedures?limit=2", None).await.expect::<Page<Procedure>>(200).next_cursor.unwrap();
        assert_eq!(codes(&app.get(&format!("/api/v1/procedures?limit=2&cursor={next}"), None).await).len(), 1);
        app.get("/api/v1/procedures?online_level=9", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/procedures?level=galaxy", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/procedures?status=draft", None).await.assert_problem(403, "forbidden");
        app.get("/api/v1/procedures?status=sleeping", Some(&f.officer)).await.assert_problem(422, "validation_failed");
        assert_eq!(codes(&app.get("/api/v1/procedures?status=draft", Some(&f.officer)).await), ["2.000999.H14"]);
    }
}

backend_test! {
    async fn bad_procedures_are_refused_with_the_fields_named(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let mut body = procedure("1.001193.000.00.00.H1", "", &f.commune_a);
        body["national_code"] = json!("x");
        body["levels"] = json!(["galaxy"]);
        body["online_level"] = json!("info");
        body["channels"] = json!(["online"]);
        body["processing_time"] = json!({"value": -1, "unit": "working_day"});
        body["cutoff_time"] = json!("25:61");
        body["form_schema"] = json!({"type": 5});
        body["fees"] = json!([{"amount": -5, "description": "x"}]);
        body["required_documents"] = json!([{"code": "A", "name": "a", "originals": 1, "copies": 0, "mandatory": true}, {"code": "A", "name": "b", "originals": 1, "copies": 0, "mandatory": false}]);
        body["effective_from"] = json!("2999-01-01");
        let mut fixed = body.clone();
        fixed["code"] = json!("1.001193.000.00.00.H14");
        let problem = app.post("/api/v1/procedures", Some(&f.admin), fixed).await.assert_problem(422, "validation_failed");
        let mut names = problem.param_names();
        names.sort();
        names.dedup();
        for field in [
            "channels",
            "cutoff_time",
            "effective_from",
            "fees[0].amount",
            "form_schema",
            "levels",
            "name",
            "national_code",
            "processing_time",
            "required_documents",
        ] {
            assert!(names.contains(&field), "{backend:?}: {field} not in {names:?}");
        }
        app.post("/api/v1/procedures", Some(&f.admin), body).await.assert_problem(422, "validation_failed");
        let mut unit = procedure("1.001193.000.00.00.H14", "x", &f.commune_a);
        unit["processing_time"] = json!({"value": 5, "unit": "fortnight"});
        app.post("/api/v1/procedures", Some(&f.admin), unit).await.assert_problem(422, "validation_failed");
        let mut remote = procedure("1.001193.000.00.00.H14", "x", &f.commune_a);
        remote["form_schema"] = json!({"$ref": "https://example.invalid/schema.json"});
        app.post("/api/v1/procedures", Some(&f.admin), remote).await.assert_problem(422, "validation_failed");
        let unknown_agency = procedure("1.001193.000.00.00.H14", "x", "no-such-agency");
        app.post("/api/v1/procedures", Some(&f.admin), unknown_agency).await.assert_problem(422, "validation_failed");
        let drafts: Page<Procedure> = app.get("/api/v1/procedures?status=draft", Some(&f.admin)).await.expect(200);
        assert!(drafts.items.is_empty(), "nothing was stored");
    }
}

async fn put(app: &TestApp, url: &str, token: &str, body: Value) -> Resp {
    app.request(Method::PUT, url, Some(token), Some(body)).await
}

backend_test! {
    async fn workflows_default_validate_and_version(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let code = "1.001193.000.00.00.H14";
        app.post("/api/v1/procedures", Some(&f.admin), procedure(code, "Đăng ký khai sinh", &f.commune_a)).await;
        let default: Workflow = app.get(&format!("/api/v1/procedures/{code}/workflow"), Some(&f.officer)).await.expect(200);
        assert_eq!((default.origin.as_str(), default.total_hours), ("default", 40), "{backend:?}");
        assert_eq!(default.steps[0].capability, "reception");
        let steps = |processing: i64| {
            json!([
                {"key": "tiep_nhan", "name": "Tiếp nhận", "capability": "reception", "duration_hours": 2},
                {"key": "xu_ly", "name": "Xử lý", "capability": "processing", "duration_hours": processing},
                {"key": "tra", "name": "Trả kết quả", "capability": "result_return", "duration_hours": 2}
            ])
        };
        let url = format!("/api/v1/procedures/{code}/workflow");
        put(&app, &url, &f.admin, json!({"steps": steps(50)})).await.assert_problem(422, "validation_failed");
        put(&app, &url, &f.admin, json!({"steps": []})).await.assert_problem(422, "validation_failed");
        let wrong_order = json!({"steps": [{"key": "xu_ly", "name": "Xử lý", "capability": "processing", "duration_hours": 1}, {"key": "tra", "name": "Trả", "capability": "result_return", "duration_hours": 1}]});
        put(&app, &url, &f.admin, wrong_order).await.assert_problem(422, "validation_failed");
        put(&app, &url, &f.admin, json!({"steps": [{"key": "a", "name": "A", "capability": "flying", "duration_hours": 1}]}))
            .await
            .assert_problem(422, "validation_failed");
        put(&app, &url, &f.officer, json!({"steps": steps(30)})).await.assert_problem(403, "forbidden");
        put(&app, &url, &f.agency_admin, json!({"steps": steps(30)})).await.assert_problem(403, "forbidden");
        let v1: Workflow = put(&app, &url, &f.admin, json!({"steps": steps(30)})).await.expect(200);
        assert_eq!(v1.version, 1);
        let mine: Workflow = put(&app, &url, &f.agency_admin, json!({"agency_id": f.commune_a, "steps": steps(20)})).await.expect(200);
        assert_eq!(mine.version, 1);
        put(&app, &url, &f.agency_admin, json!({"agency_id": f.commune_b, "steps": steps(20)})).await.assert_problem(403, "forbidden");
        assert_eq!(put(&app, &url, &f.admin, json!({"steps": steps(36)})).await.expect::<Workflow>(200).version, 2);
        let stored: Workflow = app.get(&format!("{url}?agency_id={}", f.commune_a), Some(&f.officer)).await.expect(200);
        assert_eq!((stored.origin.as_str(), stored.total_hours), ("stored", 24));
        let wide: Workflow = app.get(&format!("{url}?agency_id={}", f.commune_b), Some(&f.officer)).await.expect(200);
        assert_eq!((wide.version, wide.total_hours), (2, 40), "falls back to the procedure-wide workflow");
        app.get(&url, None).await.assert_problem(401, "unauthorized");
        app.get("/api/v1/procedures/9.999999/workflow", Some(&f.officer)).await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn faqs_are_public_to_read_and_admin_to_write(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let code = "1.001193.000.00.00.H14";
        app.post("/api/v1/procedures", Some(&f.admin), procedure(code, "Đăng ký khai sinh", &f.commune_a)).await;
        let body =
            json!({"procedure_code": code, "question": "Đăng ký khai sinh cần giấy tờ gì?", "answer": "Tờ khai và giấy chứng sinh."});
        app.post("/api/v1/faqs", None, body.clone()).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/faqs", Some(&f.officer), body.clone()).await.assert_problem(403, "forbidden");
        let created: Faq = app.post("/api/v1/faqs", Some(&f.agency_admin), body).await.expect(201);
        let id = created.id.as_str();
        app.post("/api/v1/faqs", Some(&f.admin), json!({"procedure_code": "9.999999", "question": "q", "answer": "a"}))
            .await
            .assert_problem(422, "validation_failed");
        app.post("/api/v1/faqs", Some(&f.admin), json!({"question": "", "answer": "a"})).await.assert_problem(422, "validation_failed");
        let found: Page<Faq> = app.get("/api/v1/faqs?q=giay%20chung%20sinh", None).await.expect(200);
        assert_eq!(found.items.iter().map(|f| f.question.as_str()).collect::<Vec<_>>(), ["Đăng ký khai sinh cần giấy tờ gì?"]);
        assert_eq!(app.get(&format!("/api/v1/faqs?procedure_code={code}"), None).await.expect::<Page<Faq>>(200).items.len(), 1);
        let edited: Faq = app.patch(&format!("/api/v1/faqs/{id}"), Some(&f.admin), json!({"answer": "Tờ khai, giấy chứng sinh."})).await.expect(200);
        assert_eq!(edited.answer, "Tờ khai, giấy chứng sinh.");
        app.patch("/api/v1/faqs/missing", Some(&f.admin), json!({"answer": "x"})).await.assert_problem(404, "not_found");
    }
}
