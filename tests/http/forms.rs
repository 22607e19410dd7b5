//! Forms 01–05, the register (06) and the per-case evaluation over HTTP: the data, the PDFs
//! (their text read back with `pdftotext`, installed by `make test`), scope and denials.

use serde_json::json;

use crate::cases::{CODE, NO_RESULT, act, case_body, upload, world};
use crate::support::*;

/// Downloads `path` and returns the status, content type and bytes.
pub async fn fetch(app: &TestApp, path: &str, token: &str, accept: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(token).header("Accept", accept).send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, kind, response.bytes().await.unwrap().to_vec())
}

/// The text of a PDF, as a reader would copy it.
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("motcua-pdf-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("form.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed: `make test` installs it");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn assert_pdf(app: &TestApp, path: &str, token: &str, expected: &[&str]) {
    let (status, kind, bytes) = fetch(app, path, token, "application/pdf").await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"), "{path}: {}", String::from_utf8_lossy(&bytes));
    assert!(bytes.starts_with(b"%PDF-"), "{path}");
    // `make forms-preview` keeps the files to render them to PNG and look at them.
    if let Ok(dir) = std::env::var("MOTCUA_FORMS_OUT") {
        let name = path.trim_start_matches("/api/v1/").split('?').next().unwrap_or("form").replace('/', "_");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.pdf")), &bytes).unwrap();
    }
    let text = pdf_text(&bytes);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in expected {
        assert!(flat.contains(needle), "{path}: `{needle}` missing from\n{text}");
    }
}

backend_test! {
    async fn every_form_renders_with_vietnamese_text_and_is_scoped(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let code = counter.body["code"].as_str().unwrap().to_owned();
        let form = |name: &str| format!("/api/v1/cases/{code}/forms/{name}");

        // 01 receipt: data and PDF.
        let receipt = app.get(&format!("{}?format=json", form("receipt")), Some(&w.clerk)).await;
        assert_eq!(receipt.status, 200, "{backend:?}: {}", receipt.text);
        assert_eq!(receipt.body["number"], "01");
        assert_eq!(receipt.body["table"]["rows"][0], json!(["1", "Tờ khai", "1", "0"]));
        let fields = receipt.body["fields"].as_array().unwrap();
        let value = |key: &str| fields.iter().find(|f| f["key"] == key).map(|f| f["value"].as_str().unwrap().to_owned()).unwrap();
        assert_eq!(value("owner"), "Nông Văn Bình");
        assert_eq!(value("processing_time"), "5 ngày làm việc");
        assert!(value("due_at").starts_with("Sau "), "{}", value("due_at"));
        assert_pdf(
            app,
            &form("receipt"),
            &w.clerk,
            &[
                "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Nông Văn Bình",
                &code,
                "NGƯỜI TIẾP NHẬN HỒ SƠ",
            ],
        )
        .await;
        // Nothing for forms 02–04 yet.
        app.get(&format!("{}?format=json", form("refusal")), Some(&w.clerk)).await.assert_problem(409, "conflict");
        app.get(&format!("{}?format=json", form("invoice")), Some(&w.clerk)).await.assert_problem(404, "not_found");
        app.get(&format!("{}?format=xml", form("receipt")), Some(&w.clerk)).await.assert_problem(422, "validation_failed");

        // 02 supplement request, 04 apology, 05 control sheet after the case moves on.
        act(app, &w.clerk, &code, "forward", json!({})).await;
        let asked = act(
            app,
            &w.clerk,
            &code,
            "request_supplement",
            json!({"reason": "Giấy chứng sinh bị mờ", "items": ["Giấy chứng sinh (bản chính)", "Sổ hộ khẩu"], "deadline_days": 5}),
        )
        .await;
        assert_eq!(asked.status, 200, "{}", asked.text);
        let request = app.get(&format!("{}?format=json", form("supplement_request")), Some(&w.clerk)).await;
        assert!(request.text.contains("1. Giấy chứng sinh (bản chính)\\n2. Sổ hộ khẩu"), "{}", request.text);
        assert!(request.text.contains("\"deadline\""), "the supplement deadline is printed: {}", request.text);
        assert_pdf(
            app,
            &form("supplement_request"),
            &w.clerk,
            &["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Sổ hộ khẩu", "Giấy chứng sinh bị mờ"],
        )
        .await;
        act(app, &w.clerk, &code, "submit_supplement", json!({"note": "Đã bổ sung"})).await;
        let apology =
            act(app, &w.clerk, &code, "apologize", json!({"reason": "Chờ xác minh của Công an xã", "new_due_at": "2099-01-05T03:00:00Z"}))
                .await;
        assert_eq!(apology.status, 200, "{}", apology.text);
        assert_pdf(
            app,
            &form("apology"),
            &w.clerk,
            &["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Chờ xác minh của Công an xã", "10 giờ 00 phút, ngày 05/01/2099"],
        )
        .await;
        assert_eq!(upload(app, &w.clerk, &code, "result", b"%PDF-1.7 ket qua").await.status, 201);
        act(app, &w.clerk, &code, "resolve", json!({"summary": "Cấp giấy khai sinh", "decision_number": "12/GKS"})).await;
        let sheet = app.get(&format!("{}?format=json", form("control_sheet")), Some(&w.clerk)).await;
        let rows = sheet.body["table"]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "accept, forward, resolve: {}", sheet.text);
        assert_eq!(rows[0][2], "Trước hạn", "the processing step was handed on at once: {}", sheet.text);
        assert_pdf(app, &form("control_sheet"), &w.clerk, &["PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Trước hạn", "Người giao"]).await;

        // The evaluation of the finished case.
        let evaluation = app.get(&format!("/api/v1/cases/{code}/evaluation"), Some(&w.clerk)).await;
        assert_eq!(evaluation.status, 200, "{}", evaluation.text);
        let points: Vec<serde_json::Value> =
            evaluation.body["indicators"].as_array().unwrap().iter().map(|i| i["points"].clone()).collect();
        assert_eq!(
            points,
            vec![json!(2), json!(2), json!(1), json!(1), json!(null), json!(null), json!(2), json!(null), json!(null)],
            "{}",
            evaluation.text
        );
        assert_eq!((evaluation.body["points"].as_u64(), evaluation.body["max_points"].as_u64()), (Some(8), Some(10)));

        // 03 refusal of an online case; the owner reads their own forms.
        let online = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        let online_code = online.body["code"].as_str().unwrap().to_owned();
        act(app, &w.clerk, &online_code, "refuse", json!({"reason": "Thủ tục không thuộc thẩm quyền của UBND phường"})).await;
        assert_pdf(
            app,
            &format!("/api/v1/cases/{online_code}/forms/refusal"),
            &w.citizen,
            &["PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "Thủ tục không thuộc thẩm quyền của UBND phường"],
        )
        .await;

        // Scope: another citizen and another agency's staff see nothing; the owner sees
        // nothing of someone else's case.
        app.post("/api/v1/auth/register", None, citizen("citizen.b", 2)).await;
        let stranger = app.token("citizen.b", "citizen-pass-2026").await;
        app.get(&format!("{}?format=json", form("receipt")), Some(&stranger)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{code}/evaluation"), Some(&stranger)).await.assert_problem(404, "not_found");
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        app.get(&format!("{}?format=json", form("control_sheet")), Some(&clerk_b)).await.assert_problem(404, "not_found");
        app.get(&format!("{}?format=json", form("receipt")), None).await.assert_problem(401, "unauthorized");

        // 06 register: JSON, CSV (BOM, Vietnamese intact), PDF; staff only, scoped.
        let today = chrono::Utc::now().with_timezone(&domain::time::VN).date_naive();
        let period = format!("from={today}&to={today}&agency_id={}", w.f.commune_a);
        let register = app.get(&format!("/api/v1/registers/cases?{period}"), Some(&w.clerk)).await;
        assert_eq!(register.status, 200, "{}", register.text);
        let rows = register.body["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "only received cases are registered: {}", register.text);
        assert_eq!(rows[0]["case_code"], code.as_str());
        let (status, kind, csv) = fetch(app, &format!("/api/v1/registers/cases?{period}"), &w.clerk, "text/csv").await;
        assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("\u{feff}STT,Mã hồ sơ,Tên TTHC,Nội dung hồ sơ"), "{csv}");
        assert!(csv.contains("Nông Văn Bình") && csv.contains(&code), "{csv}");
        assert_pdf(
            app,
            &format!("/api/v1/registers/cases?{period}&format=pdf"),
            &w.clerk,
            &["SỔ THEO DÕI TÌNH HÌNH TIẾP NHẬN HỒ SƠ", &code],
        )
        .await;
        app.get(&format!("/api/v1/registers/cases?{period}"), Some(&w.citizen)).await.assert_problem(403, "forbidden");
        app.get(&format!("/api/v1/registers/cases?{period}"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/registers/cases?from={today}&to=2020-01-01&agency_id={}", w.f.commune_a), Some(&w.clerk))
            .await
            .assert_problem(422, "validation_failed");
    }
}
