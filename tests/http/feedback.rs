//! Feedback and petitions over HTTP: anonymous and citizen submission, every transition allowed
//! and denied by role and scope, deadlines, attachments, the sender's reaction, the public
//! answers without personal data, and conduct feedback feeding indicator 7.

use serde_json::{Value, json};

use crate::cases::{NO_RESULT, act, case_body, world};
use crate::support::*;
use crate::types::{Feedback, Page, PublicFeedback};

fn anonymous_body() -> Value {
    json!({
        "kind": "reflection",
        "category": "regulation",
        "title": "Thủ tục đăng ký khai sinh còn rườm rà",
        "content": "Đề nghị giảm bớt giấy tờ phải nộp khi đăng ký khai sinh.",
        "contact": {"full_name": "Lục Thị Hoa", "phone": "0912000111", "address": "Xóm 2, xã Hòa An"}
    })
}

async fn feedback_act(app: &TestApp, token: &str, code: &str, action: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/feedback/{code}/actions/{action}"), Some(token), body).await
}

backend_test! {
    async fn feedback_moves_through_its_states_by_role_and_is_published_without_personal_data(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        // Anonymous senders must give a name and a way to answer them.
        let mut no_contact = anonymous_body();
        no_contact.as_object_mut().unwrap().remove("contact");
        app.post("/api/v1/feedback", None, no_contact).await.assert_problem(422, "validation_failed");
        let mut name_only = anonymous_body();
        name_only["contact"] = json!({"full_name": "Lục Thị Hoa"});
        app.post("/api/v1/feedback", None, name_only).await.assert_problem(422, "validation_failed");
        let mut bad_kind = anonymous_body();
        bad_kind["kind"] = json!("complaint");
        app.post("/api/v1/feedback", None, bad_kind).await.assert_problem(422, "validation_failed");
        app.post("/api/v1/feedback", Some(&w.clerk), anonymous_body()).await.assert_problem(403, "forbidden");

        let mut to_a = anonymous_body();
        to_a["agency_id"] = json!(w.f.commune_a);
        let sent = app.post("/api/v1/feedback", None, to_a).await.feedback(201);
        let code = sent.code.clone();
        assert!(code.starts_with("PAKN-") && code.len() == 16, "{code}");
        assert_eq!((sent.status.as_str(), sent.status_label.as_str()), ("received", "Chờ tiếp nhận"));
        assert!(sent.available_actions.is_empty());
        assert!(sent.deadlines.reception_due_at < sent.deadlines.supplement_due_at);
        assert!(sent.deadlines.supplement_due_at < sent.deadlines.answer_due_at);
        assert!(!sent.overdue.any);

        // Staff of the agency act by capability; others are refused.
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception", "processing", "approval"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        app.get(&format!("/api/v1/feedback/{code}"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        feedback_act(app, &clerk_b, &code, "accept", json!({})).await.assert_problem(404, "not_found");
        feedback_act(app, &w.citizen, &code, "accept", json!({})).await.assert_problem(404, "not_found");
        feedback_act(app, &w.f.supervisor, &code, "accept", json!({})).await.assert_problem(403, "forbidden");
        let read = app.get(&format!("/api/v1/feedback/{code}"), Some(&w.f.supervisor)).await.feedback(200);
        assert_eq!(read.contact.full_name, "Lục Thị Hoa", "supervisors read everything");
        feedback_act(app, &w.clerk, &code, "publish", json!({})).await.assert_problem(409, "invalid_transition");
        let conflict = feedback_act(app, &w.clerk, &code, "publish", json!({})).await.assert_problem(409, "invalid_transition");
        assert_eq!(conflict.allowed_actions, ["accept", "refuse", "request_supplement"]);
        feedback_act(app, &w.clerk, &code, "refuse", json!({})).await.assert_problem(422, "validation_failed");
        feedback_act(app, &w.clerk, &code, "fly", json!({})).await.assert_problem(404, "not_found");
        let stale = app
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/feedback/{code}/actions/accept"),
                Some(&w.clerk),
                Some(json!({})),
                &[("If-Match", "\"x-r0\"")],
            )
            .await;
        stale.assert_problem(412, "precondition_failed");
        let tag = app.get(&format!("/api/v1/feedback/{code}"), Some(&w.clerk)).await.header("etag").unwrap().to_owned();
        let accepted = app
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/feedback/{code}/actions/accept"),
                Some(&w.clerk),
                Some(json!({})),
                &[("If-Match", &tag)],
            )
            .await
            .feedback(200);
        assert_eq!(accepted.available_actions, ["request_supplement", "assign", "respond"]);
        // officer.a holds only the reception capability: no answer, no publication.
        feedback_act(app, &w.f.officer, &code, "respond", json!({"answer": "…"})).await.assert_problem(403, "forbidden");
        feedback_act(app, &w.clerk, &code, "assign", json!({"agency_id": w.f.commune_b})).await.assert_problem(422, "validation_failed");
        let assigned = feedback_act(app, &w.f.agency_admin, &code, "assign", json!({"agency_id": w.f.commune_a})).await.feedback(200);
        assert_eq!(assigned.status, "assigned");
        let answer = "Ủy ban sẽ rà soát và công khai danh mục giấy tờ tối giản.";
        let answered = feedback_act(app, &w.clerk, &code, "respond", json!({"answer": answer})).await.feedback(200);
        assert_eq!(answered.status, "answered");
        assert!(answered.deadlines.publish_due_at.is_some());
        // Not public before publication.
        app.get(&format!("/api/v1/public/feedback/{code}"), None).await.assert_problem(404, "not_found");
        let published = feedback_act(app, &w.clerk, &code, "publish", json!({})).await.feedback(200);
        assert_eq!(published.status, "published");
        assert!(published.available_actions.is_empty());
        feedback_act(app, &w.clerk, &code, "respond", json!({"answer": "x"})).await.assert_problem(409, "invalid_transition");

        // The public sees the question and the answer, never the sender.
        let public = app.get("/api/v1/public/feedback?q=dang%20ky%20khai%20sinh", None).await;
        assert_eq!(public.status, 200, "{}", public.text);
        let items = public.json::<Page<PublicFeedback>>().items;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].answer.as_deref(), Some(answer));
        assert_eq!(items[0].agency_name, "UBND phường Thục Phán");
        for personal in ["Lục Thị Hoa", "0912000111", "Xóm 2", "contact"] {
            assert!(!public.text.contains(personal), "{backend:?}: {personal} leaked: {}", public.text);
        }
        let one = app.get(&format!("/api/v1/public/feedback/{code}"), None).await;
        assert_eq!(one.expect::<PublicFeedback>(200).title, "Thủ tục đăng ký khai sinh còn rườm rà");
        assert!(!one.text.contains("0912000111"));
        assert!(app.get("/api/v1/public/feedback?q=khong%20co", None).await.json::<Page<PublicFeedback>>().items.is_empty());
        app.get("/api/v1/public/feedback?category=other", None).await.assert_problem(422, "validation_failed");
        // Nobody reacts for an anonymous sender.
        app.post(&format!("/api/v1/feedback/{code}/reaction"), Some(&w.citizen), json!({"useful": true}))
            .await
            .assert_problem(404, "not_found");

        // A citizen's conduct complaint about its own case goes to the case's agency, can be
        // supplemented, and weighs on indicator 7 of the case.
        let case_code = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await.case(201).code;
        for (action, body) in [("accept", json!({})), ("resolve", json!({"summary": "Xong"}))] {
            assert_eq!(act(app, &w.clerk, &case_code, action, body).await.status, 200);
        }
        let before = app.get(&format!("/api/v1/cases/{case_code}/evaluation"), Some(&w.citizen)).await;
        assert_ne!(indicator_7(&before.body)["points"], 0, "{}", before.text);
        let complaint = app
            .post(
                "/api/v1/feedback",
                Some(&w.citizen),
                json!({"kind": "reflection", "category": "conduct", "title": "Cán bộ gây khó khăn", "content": "Yêu cầu nộp thêm giấy tờ không có trong quy định.", "related_case_code": case_code}),
            )
            .await
            .feedback(201);
        assert_eq!(complaint.agency_id, w.f.commune_a);
        assert_eq!(complaint.related_case_code.as_deref(), Some(case_code.as_str()));
        assert_eq!(complaint.contact.full_name, "Nguyễn Văn A", "the account's name");
        let complaint_code = complaint.code;
        let after = app.get(&format!("/api/v1/cases/{case_code}/evaluation"), Some(&w.citizen)).await;
        assert_eq!(indicator_7(&after.body)["points"], 0, "{}", after.text);

        let asked = feedback_act(app, &w.clerk, &complaint_code, "request_supplement", json!({"reason": "Cho biết tên cán bộ"})).await;
        assert_eq!(asked.feedback(200).status, "supplement_requested");
        feedback_act(app, &w.clerk, &complaint_code, "submit_supplement", json!({"content": "x"})).await.assert_problem(403, "forbidden");
        let mine = app.get(&format!("/api/v1/feedback/{complaint_code}"), Some(&w.citizen)).await.feedback(200);
        assert_eq!(mine.available_actions, ["submit_supplement"]);
        let supplemented =
            feedback_act(app, &w.citizen, &complaint_code, "submit_supplement", json!({"content": "Cán bộ tiếp nhận buổi sáng 20/11"}))
                .await
                .feedback(200);
        assert_eq!(supplemented.status, "received");
        assert!(supplemented.content.contains("Cán bộ tiếp nhận buổi sáng 20/11"));
        // Attachments: a real PDF is kept; an executable named .pdf is not.
        let pdf = upload(app, &w.citizen, &complaint_code, b"%PDF-1.4 bien ban").await;
        assert_eq!(pdf.status, 201, "{}", pdf.text);
        upload(app, &w.citizen, &complaint_code, b"MZ\x90\x00 not a pdf").await.assert_problem(415, "unsupported_media_type");
        let url = pdf.body["download_url"].as_str().unwrap().to_owned();
        let (status, _, bytes) = crate::forms::fetch(app, &url, &w.clerk, "*/*").await;
        assert_eq!((status, bytes.as_slice()), (200, b"%PDF-1.4 bien ban".as_slice()));
        let (status, _, _) = crate::forms::fetch(app, &url, &clerk_b, "*/*").await;
        assert_eq!(status, 404);
        // Refused as unfounded: the complaint no longer counts against the case.
        let refused = feedback_act(app, &w.clerk, &complaint_code, "refuse", json!({"reason": "Không có căn cứ"})).await;
        assert_eq!(refused.feedback(200).status, "refused");
        let cleared = app.get(&format!("/api/v1/cases/{case_code}/evaluation"), Some(&w.citizen)).await;
        assert_ne!(indicator_7(&cleared.body)["points"], 0);
        app.post(&format!("/api/v1/feedback/{complaint_code}/reaction"), Some(&w.citizen), json!({"useful": false}))
            .await
            .assert_problem(409, "conflict");

        // Lists: the citizen sees its own; staff of A both; B none; filters validated.
        let list = |path: &'static str, token: String| async move { app.get(path, Some(&token)).await.json::<Page<Feedback>>().items };
        assert_eq!(list("/api/v1/feedback", w.citizen.clone()).await.len(), 1);
        assert_eq!(list("/api/v1/feedback", w.clerk.clone()).await.len(), 2);
        assert!(list("/api/v1/feedback", clerk_b.clone()).await.is_empty());
        let published: Vec<String> = list("/api/v1/feedback?status=published", w.clerk.clone()).await.into_iter().map(|f| f.code).collect();
        assert_eq!(published, std::slice::from_ref(&code));
        assert!(list("/api/v1/feedback?overdue=true", w.clerk.clone()).await.is_empty());
        app.get("/api/v1/feedback?status=lost", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn the_sender_reacts_to_the_published_answer_and_anonymous_senders_are_rate_limited(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let mut body = anonymous_body();
        body.as_object_mut().unwrap().remove("contact");
        body["agency_id"] = json!(w.f.commune_a);
        let code = app.post("/api/v1/feedback", Some(&w.citizen), body).await.feedback(201).code;
        app.post(&format!("/api/v1/feedback/{code}/reaction"), Some(&w.citizen), json!({"useful": true}))
            .await
            .assert_problem(409, "conflict");
        for (action, body) in [("accept", json!({})), ("respond", json!({"answer": "Đã ghi nhận"})), ("publish", json!({}))] {
            assert_eq!(feedback_act(app, &w.clerk, &code, action, body).await.status, 200, "{action}");
        }
        app.post(&format!("/api/v1/feedback/{code}/reaction"), Some(&w.clerk), json!({"useful": true}))
            .await
            .assert_problem(403, "forbidden");
        let reacted = app.post(&format!("/api/v1/feedback/{code}/reaction"), Some(&w.citizen), json!({"useful": true})).await;
        assert_eq!(reacted.feedback(200).useful, Some(true));
        assert_eq!(app.get(&format!("/api/v1/public/feedback/{code}"), None).await.expect::<PublicFeedback>(200).useful, Some(true));

        // Anonymous submissions: 10 an hour per address, then 429 with Retry-After.
        let mut last = None;
        for _ in 0..11 {
            last = Some(app.post("/api/v1/feedback", None, anonymous_body()).await);
        }
        let last = last.unwrap();
        last.assert_problem(429, "rate_limited");
        assert!(last.header("retry-after").is_some());
        assert_eq!(app.post("/api/v1/feedback", Some(&w.citizen), anonymous_body()).await.status, 201, "citizens are not limited");
    }
}

async fn upload(app: &TestApp, token: &str, code: &str, bytes: &'static [u8]) -> Resp {
    use reqwest::multipart::{Form, Part};
    let form = Form::new().part("file", Part::bytes(bytes).file_name("bien-ban.pdf"));
    into_resp(
        app.client.post(format!("{}/api/v1/feedback/{code}/documents", app.base)).bearer_auth(token).multipart(form).send().await.unwrap(),
    )
    .await
}

fn indicator_7(evaluation: &Value) -> Value {
    evaluation["indicators"].as_array().unwrap().iter().find(|i| i["number"] == 7).cloned().unwrap()
}
