//! Notifications through the SMS, Zalo and e-mail gateways, the push of frozen reports to the
//! government reporting system, and lookup by message (mockito plays the gateways).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{NO_RESULT, act, case_body, world_with};
use crate::outbox::wait_for;
use crate::support::*;

/// A gateway that answers `status` and records the JSON bodies and bearer tokens it got.
struct Gateway {
    server: mockito::ServerGuard,
    got: Arc<Mutex<Vec<(Value, String)>>>,
    _mock: mockito::Mock,
}

impl Gateway {
    async fn start(path: &str, answer: Value) -> Gateway {
        let mut server = mockito::Server::new_async().await;
        let got = Arc::new(Mutex::new(Vec::new()));
        let record = got.clone();
        let mock = server
            .mock("POST", path)
            .match_header("content-type", "application/json")
            .with_body_from_request(move |request| {
                let body = serde_json::from_str(&request.utf8_lossy_body().unwrap_or_default()).unwrap_or(Value::Null);
                let auth = request.header("authorization").first().and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record.lock().unwrap().push((body, auth));
                answer.to_string().into_bytes()
            })
            .create_async()
            .await;
        Gateway { server, got, _mock: mock }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn bodies(&self) -> Vec<Value> {
        self.got.lock().unwrap().iter().map(|(b, _)| b.clone()).collect()
    }

    async fn wait(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.bodies().len() < n {
            assert!(Instant::now() < deadline, "waited for {n} messages, got {:?}", self.bodies());
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        self.bodies()
    }
}

backend_test! {
    async fn applicants_hear_of_receipt_supplements_apologies_and_results_by_sms_zalo_and_email(backend: Backend) {
        let sms = Gateway::start("/sms", json!({"message_id": "m1"})).await;
        let zalo = Gateway::start("/zalo", json!({"ok": true})).await;
        let email = Gateway::start("/mail", json!({"id": 7})).await;
        let (sms_url, zalo_url, email_url) = (sms.url("/sms"), zalo.url("/zalo"), email.url("/mail"));
        let w = world_with(backend, move |env| {
            env.insert("MOTCUA_SMS_URL".into(), sms_url);
            env.insert("MOTCUA_SMS_TOKEN".into(), "sms-token".into());
            env.insert("MOTCUA_ZALO_URL".into(), zalo_url);
            env.insert("MOTCUA_EMAIL_URL".into(), email_url);
            env.insert("MOTCUA_LOOKUP_LINK".into(), "https://dvc.caobang.gov.vn/tra-cuu?ma={code}".into());
            env.insert("MOTCUA_OUTBOX_POLL_MS".into(), "20".into());
        })
        .await;
        let mut body = case_body(NO_RESULT, "online");
        body["applicant"]["email"] = json!("binh@example.vn");
        let submitted = w.app.post("/api/v1/cases", Some(&w.citizen), body).await;
        let code = submitted.body["code"].as_str().unwrap().to_owned();
        let first = sms.wait(1).await;
        assert_eq!(first[0]["to"], "0912345678", "{backend:?}");
        let text = first[0]["text"].as_str().unwrap();
        assert!(text.contains(&code) && text.contains("chờ tiếp nhận"), "{text}");
        assert!(text.ends_with(&format!("Tra cứu: https://dvc.caobang.gov.vn/tra-cuu?ma={code}")), "{text}");
        for secret in ["Nông Văn Bình", "004099012345", "Tổ 1"] {
            assert!(!text.contains(secret), "{backend:?}: the text leaks {secret}");
        }
        assert_eq!(sms.got.lock().unwrap()[0].1, "Bearer sms-token");
        assert_eq!(zalo.wait(1).await[0]["phone"], "0912345678");
        let mail = email.wait(1).await;
        assert_eq!(
            (mail[0]["to"].as_str(), mail[0]["subject"].as_str()),
            (Some("binh@example.vn"), Some(format!("Đã nhận hồ sơ {code}").as_str()))
        );

        assert_eq!(act(&w.app, &w.clerk, &code, "accept", json!({})).await.status, 200);
        assert!(sms.wait(2).await[1]["text"].as_str().unwrap().contains("Hẹn trả kết quả lúc"), "{backend:?}");
        act(&w.app, &w.clerk, &code, "forward", json!({"to_step": "xu_ly"})).await;
        act(&w.app, &w.clerk, &code, "request_supplement", json!({"reason": "Thiếu giấy", "items": ["Giấy chứng sinh"]})).await;
        assert!(sms.wait(3).await[2]["text"].as_str().unwrap().contains("cần bổ sung"), "forwarding says nothing");
        act(&w.app, &w.citizen, &code, "submit_supplement", json!({})).await;
        act(&w.app, &w.clerk, &code, "apologize", json!({"reason": "Cần xác minh", "new_due_at": "2099-01-05T03:00:00Z"})).await;
        let apology = sms.wait(4).await[3]["text"].as_str().unwrap().to_owned();
        assert!(apology.contains("xin lỗi") && apology.contains("10:00 ngày 05/01/2099"), "{apology}");
        act(&w.app, &w.clerk, &code, "resolve", json!({})).await;
        assert!(sms.wait(5).await[4]["text"].as_str().unwrap().contains("đã có kết quả"));
        // The gateway has the text before the dispatcher records the answer.
        wait_for(&w, &[&code], "every notification recorded as sent", |m| m["status"] == "sent").await;
        let sent = w.app.get(&format!("/api/v1/integrations/outbox?subject={code}&target=sms&limit=100"), Some(&w.f.admin)).await;
        let kinds: Vec<&str> = sent.body["items"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "notification.result_ready",
                "notification.apology",
                "notification.supplement_requested",
                "notification.received",
                "notification.received"
            ],
            "{backend:?}"
        );
        assert!(sent.body["items"].as_array().unwrap().iter().all(|m| m["status"] == "sent"));
        assert_eq!(sent.body["items"][0]["response_ref"], "m1", "the gateway's message id is kept");
    }
}

backend_test! {
    async fn frozen_reports_are_pushed_to_the_reporting_system_and_keep_its_reference(backend: Backend) {
        let reporting = Gateway::start("/api/bao-cao", json!({"ma_bao_cao": "BC-2026-0042"})).await;
        let url = reporting.url("/api/bao-cao");
        let w = world_with(backend, move |env| {
            env.insert("MOTCUA_REPORTING_URL".into(), url);
            env.insert("MOTCUA_REPORTING_TOKEN".into(), "report-token".into());
            env.insert("MOTCUA_OUTBOX_POLL_MS".into(), "20".into());
        })
        .await;
        let frozen = w.app.post("/api/v1/reports/periodic", Some(&w.f.admin), json!({"template": "06", "period": "2026-Q3"})).await;
        assert_eq!(frozen.status, 201, "{}", frozen.text);
        assert_eq!(frozen.body["submission_status"], "queued");
        let id = frozen.body["id"].as_str().unwrap().to_owned();
        let pushed = reporting.wait(1).await;
        assert_eq!(
            (pushed[0]["id"].as_str(), pushed[0]["template"].as_str(), pushed[0]["period"].as_str()),
            (Some(id.as_str()), Some("06"), Some("2026-Q3"))
        );
        assert_eq!(pushed[0]["report"], frozen.body["report"], "{backend:?}: the frozen numbers, as frozen");
        assert_eq!(reporting.got.lock().unwrap()[0].1, "Bearer report-token");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let snapshot = w.app.get(&format!("/api/v1/reports/{id}"), Some(&w.f.admin)).await;
            if snapshot.body["submission_status"] == "sent" {
                assert_eq!(snapshot.body["submission_ref"], "BC-2026-0042", "{backend:?}");
                break;
            }
            assert!(Instant::now() < deadline, "{}", snapshot.text);
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

backend_test! {
    async fn lookup_by_message_answers_the_public_status_to_authenticated_gateways_only(backend: Backend) {
        let w = world_with(backend, |env| {
            env.insert("MOTCUA_INBOUND_TOKEN".into(), "gateway-secret-0123456789".into());
            env.insert("MOTCUA_INBOUND_RATE_PER_HOUR".into(), "3".into());
        })
        .await;
        let submitted = w.app.post("/api/v1/cases", Some(&w.clerk), case_body(NO_RESULT, "counter")).await;
        let code = submitted.body["code"].as_str().unwrap().to_owned();
        let path = "/api/v1/integrations/messages/inbound";
        let message = |from: &str, text: &str| json!({"channel": "sms", "from": from, "text": text});
        let token = [("X-Gateway-Token", "gateway-secret-0123456789")];
        let wrong = w.app.send(Method::POST, path, None, Some(message("0911", &code)), &[("X-Gateway-Token", "nope")]).await;
        wrong.assert_problem(401, "unauthorized");
        w.app.send(Method::POST, path, None, Some(message("0911", &code)), &[]).await.assert_problem(401, "unauthorized");

        let answer = w.app.send(Method::POST, path, None, Some(message("0911", &format!("TRACUU {code}"))), &token).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let reply = answer.body["reply"].as_str().unwrap();
        assert!(reply.starts_with(&format!("Hồ sơ {code}: Được tiếp nhận.")) && reply.contains("Hẹn trả:"), "{backend:?}: {reply}");
        for secret in ["Nông Văn Bình", "004099012345", "0912345678", "Tổ 1"] {
            assert!(!answer.text.contains(secret), "{backend:?}: the reply leaks {secret}");
        }
        let unknown = w.app.send(Method::POST, path, None, Some(message("0911", "TRACUU 000.20.01.H14-261128-9999")), &token).await;
        assert!(unknown.body["reply"].as_str().unwrap().starts_with("Không tìm thấy"), "{}", unknown.text);
        let help = w.app.send(Method::POST, path, None, Some(message("0911", "xin chào")), &token).await;
        assert_eq!(help.body["case_code"], Value::Null);
        w.app.send(Method::POST, path, None, Some(message("0911", "again")), &token).await.assert_problem(429, "rate_limited");
        let other = w.app.send(Method::POST, path, None, Some(message("0922", &code)), &token).await;
        assert_eq!(other.status, 200, "the limit is per sender");
        let bad = w.app.send(Method::POST, path, None, Some(json!({"channel": "fax", "from": "1", "text": "x"})), &token).await;
        bad.assert_problem(422, "validation_failed");
    }
}

/// Without a configured token the inbound message endpoint does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_messages_are_not_served_without_a_configured_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let off = app
        .send(Method::POST, "/api/v1/integrations/messages/inbound", None, Some(json!({"channel": "sms", "from": "1", "text": "x"})), &[])
        .await;
    off.assert_problem(404, "not_found");
}

backend_test! {
    async fn feedback_is_pushed_to_and_assigned_items_are_pulled_once_from_the_national_pakn_system(backend: Backend) {
        let pushed = Gateway::start("/unused", json!({})).await;
        let code_holder = Arc::new(Mutex::new(String::new()));
        let answer_code = code_holder.clone();
        let mut server = mockito::Server::new_async().await;
        let _assigned = server
            .mock("GET", "/pakn/assigned")
            .match_header("authorization", "Bearer pakn-token")
            .with_body_from_request(move |_| {
                let agency = answer_code.lock().unwrap().clone();
                if agency.is_empty() {
                    return b"[]".to_vec(); // nothing assigned until the test knows commune A's code
                }
                json!([{"MaPAKNQuocGia": "QG-100", "TieuDe": "Đường liên xã bị sạt lở", "NoiDung": "Đề nghị sửa chữa.", "HoTen": "Lò Văn Chung", "SoDienThoai": "0911222333", "MaDonVi": agency}, {"TieuDe": "không có mã"}])
                    .to_string()
                    .into_bytes()
            })
            .create_async()
            .await;
        // Push and pull at one base URL: the pull on this server, the push forwarded to the recorder.
        let _push = server
            .mock("POST", "/pakn")
            .with_body_from_request({
                let record = pushed.got.clone();
                move |request| {
                    let body = serde_json::from_str(&request.utf8_lossy_body().unwrap_or_default()).unwrap_or(Value::Null);
                    record.lock().unwrap().push((body, String::new()));
                    json!({"id": "QG-PUSH"}).to_string().into_bytes()
                }
            })
            .create_async()
            .await;
        let base = server.url();
        let w = world_with(backend, move |env| {
            env.insert("MOTCUA_PAKN_URL".into(), base);
            env.insert("MOTCUA_PAKN_TOKEN".into(), "pakn-token".into());
            env.insert("MOTCUA_PAKN_PULL_MS".into(), "150".into());
            env.insert("MOTCUA_OUTBOX_POLL_MS".into(), "20".into());
        })
        .await;
        let commune = w.app.get(&format!("/api/v1/agencies/{}", w.f.commune_a), None).await;
        *code_holder.lock().unwrap() = commune.body["code"].as_str().unwrap().to_owned();
        let find = "/api/v1/feedback?q=duong%20lien%20xa&limit=100";
        let deadline = Instant::now() + Duration::from_secs(20);
        let item = loop {
            let found = w.app.get(find, Some(&w.f.supervisor)).await;
            if let Some(item) = found.body["items"].as_array().and_then(|i| i.first()) {
                break item.clone();
            }
            assert!(Instant::now() < deadline, "{backend:?}: nothing pulled: {}", found.text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(w.app.get(find, Some(&w.f.supervisor)).await.body["items"].as_array().unwrap().len(), 1, "{backend:?}: pulled once");
        let code = item["code"].as_str().unwrap().to_owned();
        assert!(pushed.bodies().is_empty(), "{backend:?}: an item from the national system is not pushed back as new");

        let act = |action: &'static str, body: Value| {
            let (app, clerk, code) = (&w.app, w.clerk.clone(), code.clone());
            async move { app.post(&format!("/api/v1/feedback/{code}/actions/{action}"), Some(&clerk), body).await }
        };
        assert_eq!(act("accept", json!({})).await.status, 200, "{backend:?}: assigned to commune A");
        let answered = act("respond", json!({"answer": "Huyện đã bố trí kinh phí sửa chữa."})).await;
        assert_eq!(answered.status, 200, "{}", answered.text);
        let bodies = pushed.wait(1).await;
        assert_eq!(
            (bodies[0]["MaPAKN"].as_str(), bodies[0]["MaPAKNQuocGia"].as_str(), bodies[0]["TrangThai"].as_str()),
            (Some(code.as_str()), Some("QG-100"), Some("answered"))
        );
        assert_eq!(bodies[0]["NoiDungTraLoi"], "Huyện đã bố trí kinh phí sửa chữa.");

        let local = w.app.post("/api/v1/feedback", Some(&w.citizen), json!({"kind": "recommendation", "category": "regulation", "title": "Kéo dài giờ làm việc", "content": "Đề nghị mở cửa sáng thứ Bảy."})).await;
        assert_eq!(local.status, 201, "{}", local.text);
        let bodies = pushed.wait(2).await;
        assert_eq!((bodies[1]["MaPAKN"].as_str(), bodies[1]["MaPAKNQuocGia"].as_str()), (local.body["code"].as_str(), None));
        assert_eq!(bodies[1]["TieuDe"], "Kéo dài giờ làm việc");
    }
}
