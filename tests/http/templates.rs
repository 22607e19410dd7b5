//! Form templates: upload by administrators, public download, content checked by its bytes.

use reqwest::multipart::{Form, Part};

use crate::procedures::procedure;
use crate::support::*;

const DOCX: &[u8] = b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml<Types/>word/document.xml";

async fn upload(app: &TestApp, token: Option<&str>, code: &str, bytes: &'static [u8], file_name: &'static str) -> Resp {
    let form = Form::new()
        .part("file", Part::bytes(bytes).file_name(file_name))
        .text("name", "Tờ khai đăng ký khai sinh.docx")
        .text("document_code", "TK01");
    let mut request = app.client.post(format!("{}/api/v1/procedures/{code}/templates", app.base)).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    into_resp(request.send().await.unwrap()).await
}

backend_test! {
    async fn templates_are_stored_by_content_and_served_with_their_type(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_UPLOAD_LIMIT_BYTES".into(), "4096".into());
        })
        .await;
        let f = app.fixture().await;
        let code = "1.001193.000.00.00.H14";
        app.post("/api/v1/procedures", Some(&f.admin), procedure(code, "Đăng ký khai sinh", &f.commune_a)).await;

        let stored = upload(&app, Some(&f.agency_admin), code, DOCX, "to-khai.docx").await;
        assert_eq!(stored.status, 201, "{backend:?}: {}", stored.text);
        assert_eq!(stored.body["content_type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        assert_eq!(stored.body["document_code"], "TK01");
        assert_eq!(stored.body["sha256"].as_str().unwrap().len(), 64);
        let url = stored.header("location").unwrap().to_owned();

        // A draft's templates are for staff who may see the draft.
        let anonymous = into_resp(app.client.get(format!("{}{url}", app.base)).send().await.unwrap()).await;
        anonymous.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/procedures/{code}/templates"), None).await.assert_problem(404, "not_found");
        let staff = app.client.get(format!("{}{url}", app.base)).bearer_auth(&f.officer).send().await.unwrap();
        assert_eq!(staff.status(), 200, "{backend:?}");
        let listed = app.get(&format!("/api/v1/procedures/{code}/templates"), Some(&f.officer)).await;
        assert_eq!(listed.status, 200, "{}", listed.text);

        // Published, they are public.
        for (token, action) in [(&f.agency_admin, "propose"), (&f.supervisor, "review"), (&f.admin, "verify")] {
            app.post(&format!("/api/v1/procedures/{code}/publication/{action}"), Some(token), serde_json::json!({})).await;
        }
        let published = app
            .post(&format!("/api/v1/procedures/{code}/publication/publish"), Some(&f.admin), serde_json::json!({"decision_ref": "1/QĐ"}))
            .await;
        assert_eq!(published.status, 200, "{}", published.text);
        let download = app.client.get(format!("{}{url}", app.base)).send().await.unwrap();
        assert_eq!(download.status(), 200);
        assert_eq!(download.headers()["content-type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(&download.bytes().await.unwrap()[..], DOCX);
        let listed = app.get(&format!("/api/v1/procedures/{code}/templates"), None).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1);
        let pdf = upload(&app, Some(&f.admin), code, b"%PDF-1.7\n%test", "mau.pdf").await;
        assert_eq!(pdf.body["content_type"], "application/pdf", "{}", pdf.text);

        // Executables, renamed or not, and unknown formats are refused; so are oversized files.
        upload(&app, Some(&f.admin), code, b"MZ\x90\x00\x03 this program cannot be run in DOS mode", "to-khai.docx")
            .await
            .assert_problem(415, "unsupported_media_type");
        upload(&app, Some(&f.admin), code, b"PK\x03\x04 payload.exe", "to-khai.docx").await.assert_problem(415, "unsupported_media_type");
        static BIG: [u8; 8192] = [b'%'; 8192];
        upload(&app, Some(&f.admin), code, &BIG, "big.pdf").await.assert_problem(413, "payload_too_large");
        upload(&app, Some(&f.officer), code, DOCX, "x.docx").await.assert_problem(403, "forbidden");
        upload(&app, None, code, DOCX, "x.docx").await.assert_problem(401, "unauthorized");
        upload(&app, Some(&f.admin), "9.999999", DOCX, "x.docx").await.assert_problem(404, "not_found");
        let json = app.post(&format!("/api/v1/procedures/{code}/templates"), Some(&f.admin), serde_json::json!({"file": "x"})).await;
        json.assert_problem(415, "unsupported_media_type");
        let missing = into_resp(
            app.client
                .post(format!("{}/api/v1/procedures/{code}/templates", app.base))
                .bearer_auth(&f.admin)
                .multipart(Form::new().text("name", "x"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        missing.assert_problem(422, "validation_failed");
        assert_eq!(
            app.get(&format!("/api/v1/procedures/{code}/templates"), None).await.body.as_array().unwrap().len(),
            2,
            "{backend:?}: nothing else stored"
        );
        app.get(&format!("/api/v1/procedures/{code}/templates/missing/content"), None).await.assert_problem(404, "not_found");
    }
}
