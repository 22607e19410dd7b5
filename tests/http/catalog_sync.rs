//! The national catalogue sync against a mock of the national system.

use std::time::{Duration, Instant};

use mockito::Matcher;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

fn record(code: &str, name: &str, agency_code: &str) -> Value {
    json!({
        "MATTHC": code,
        "TENTTHC": name,
        "MUCDO": "3",
        "LINHVUCTHUCHIEN": [{"MALINHVUC": "G09-HT", "TENLINHVUC": "Hộ tịch"}],
        "CACHTHUCTHUCHIEN": [{"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Ngày làm việc", "PHILEPHI": [{"SOTIEN": "8000", "MOTA": "Lệ phí"}]}]}, {"KENH": "2", "THOIGIAN": [{"THOIGIANGIAIQUYET": "3", "DONVITINH": "Ngày làm việc"}]}],
        "THANHPHANHOSO": [{"GIAYTO": [{"MAGIAYTO": "TK01", "TENGIAYTO": "Tờ khai", "SOBANCHINH": 1, "SOBANSAO": 0}]}],
        "KETQUATHUCHIEN": [{"MAKETQUA": "KQ01", "TENKETQUA": "Giấy khai sinh"}],
        "CANCUPHAPLY": [{"SOVANBAN": "60/2014/QH13", "TENVANBAN": "Luật Hộ tịch"}],
        "COQUANTHUCHIEN": [{"MADONVI": agency_code}]
    })
}

async fn national_mock(server: &mut mockito::ServerGuard, version: &str) -> Vec<mockito::Mock> {
    let mut mocks = vec![
        server
            .mock("POST", "/auth")
            .match_header("dstcode", "000.00.00.H14")
            .with_body(json!({"error_code": 0, "session": "s"}).to_string())
            .create_async()
            .await,
    ];
    let codes = ["1.001193.000.00.00.H14", "1.000656.000.00.00.H14", "broken"];
    let list: Vec<Value> = codes.iter().map(|c| json!({"MATTHC": c})).collect();
    mocks.push(
        server
            .mock("POST", "/share")
            .match_body(Matcher::PartialJson(json!({"service": "LayDanhSachTTHC"})))
            .with_body(json!({"error_code": 0, "result": list}).to_string())
            .create_async()
            .await,
    );
    let mut first = record(codes[0], "Đăng ký khai sinh", "000.20.01.H14");
    first["PHIENBAN"] = json!(version);
    if version == "2" {
        first["TENTTHC"] = json!("Đăng ký khai sinh (sửa đổi 2026)");
    }
    let details = [
        (codes[0], first),
        (codes[1], record(codes[1], "Đăng ký kết hôn", "000.99.99.H14")),
        ("broken", json!({"MATTHC": "broken", "TENTTHC": "x"})),
    ];
    for (code, body) in details {
        mocks.push(
            server
                .mock("POST", "/share")
                .match_body(Matcher::PartialJson(json!({"service": "LayThuTuc", "maTTHC": code})))
                .with_body(json!({"error_code": 0, "result": [body]}).to_string())
                .create_async()
                .await,
        );
    }
    mocks
}

async fn run_job(app: &TestApp, token: &str) -> Resp {
    let started = app.request(Method::POST, "/api/v1/integrations/national-catalog/sync", Some(token), None).await;
    assert_eq!(started.status, 202, "{}", started.text);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job = app.get(&format!("/api/v1/integrations/jobs/{id}"), Some(token)).await;
        if matches!(job.body["status"].as_str(), Some("succeeded" | "failed")) {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {}", job.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_test! {
    async fn the_catalogue_syncs_idempotently_with_provenance_and_per_item_results(backend: Backend) {
        let mut server = mockito::Server::new_async().await;
        let _mocks = national_mock(&mut server, "1").await;
        let url = server.url();
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_NATIONAL_CATALOG_URL".into(), url.clone());
            env.insert("MOTCUA_NATIONAL_CATALOG_DSTCODE".into(), "000.00.00.H14".into());
            env.insert("MOTCUA_NATIONAL_CATALOG_RETRIES".into(), "0".into());
        })
        .await;
        let f = app.fixture().await;
        app.request(Method::POST, "/api/v1/integrations/national-catalog/sync", Some(&f.officer), None)
            .await
            .assert_problem(403, "forbidden");
        app.request(Method::POST, "/api/v1/integrations/national-catalog/sync", None, None).await.assert_problem(401, "unauthorized");

        let job = run_job(&app, &f.admin).await;
        assert_eq!(job.body["status"], "succeeded", "{backend:?}: {}", job.text);
        assert_eq!(
            (job.body["total"].as_i64(), job.body["created"].as_i64(), job.body["failed"].as_i64()),
            (Some(3), Some(2), Some(1)),
            "{}",
            job.text
        );
        let items = job.body["items"].as_array().unwrap();
        let broken = items.iter().find(|i| i["code"] == "broken").unwrap();
        assert_eq!(broken["outcome"], "failed");
        assert!(broken["note"].as_str().unwrap().contains("MATTHC"), "{broken}");
        let unknown = items.iter().find(|i| i["code"] == "1.000656.000.00.00.H14").unwrap();
        assert!(unknown["note"].as_str().unwrap().contains("000.99.99.H14"), "unknown agency reported: {unknown}");

        let imported = app.get("/api/v1/procedures/1.001193.000.00.00.H14", Some(&f.admin)).await;
        assert_eq!(imported.body["status"], "draft", "{}", imported.text);
        assert_eq!(imported.body["source"]["system"], "national_catalog");
        assert_eq!(imported.body["source"]["source_version"], "1");
        assert_eq!(imported.body["online_level"], "partial");
        assert_eq!(imported.body["agency_ids"], json!([f.commune_a]));
        assert_eq!(imported.body["online_processing_time"]["value"], 3);

        // A local e-form survives the next sync; an unchanged record changes nothing.
        let mut local = imported.body.clone();
        for key in [
            "code",
            "status",
            "status_label",
            "version",
            "current",
            "decision_ref",
            "source",
            "created_at",
            "updated_at",
            "online_level_label",
            "online_level_legacy",
        ] {
            local.as_object_mut().unwrap().remove(key);
        }
        local["form_schema"] = json!({"type": "object"});
        assert_eq!(app.request(Method::PUT, "/api/v1/procedures/1.001193.000.00.00.H14", Some(&f.admin), Some(local)).await.status, 200);
        let second = run_job(&app, &f.admin).await;
        assert_eq!(
            (second.body["created"].as_i64(), second.body["updated"].as_i64(), second.body["unchanged"].as_i64()),
            (Some(0), Some(0), Some(2)),
            "{}",
            second.text
        );
        let versions = app.get("/api/v1/procedures/1.001193.000.00.00.H14/versions", Some(&f.admin)).await;
        assert_eq!(versions.body.as_array().unwrap().len(), 2, "the second run changed nothing");
        let latest = app.get("/api/v1/procedures/1.001193.000.00.00.H14?version=2", Some(&f.admin)).await;
        assert_eq!(latest.body["form_schema"], json!({"type": "object"}), "local fields are kept");

        // A changed national record makes a new version.
        server.reset();
        let _mocks = national_mock(&mut server, "2").await;
        let changed = run_job(&app, &f.admin).await;
        assert_eq!(changed.body["updated"], 1, "{}", changed.text);
        let now = app.get("/api/v1/procedures/1.001193.000.00.00.H14?version=3", Some(&f.admin)).await;
        assert_eq!(now.body["name"], "Đăng ký khai sinh (sửa đổi 2026)");
        assert_eq!(now.body["form_schema"], json!({"type": "object"}), "still kept");
        assert_eq!(now.body["source"]["source_version"], "2");

        // The national system down: the job fails and says why.
        server.reset();
        let _down = server.mock("POST", "/auth").with_status(503).create_async().await;
        let failed = run_job(&app, &f.admin).await;
        assert_eq!(failed.body["status"], "failed");
        assert!(failed.body["error"].as_str().unwrap().contains("unavailable"), "{}", failed.text);
        app.get("/api/v1/integrations/jobs/missing", Some(&f.admin)).await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn the_sync_says_when_it_is_not_configured(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        app.request(Method::POST, "/api/v1/integrations/national-catalog/sync", Some(&admin), None).await.assert_problem(409, "conflict");
    }
}

backend_test! {
    async fn the_sync_catalog_command_runs_the_same_job(backend: Backend) {
        let mut server = mockito::Server::new_async().await;
        let _mocks = national_mock(&mut server, "1").await;
        let db = tokio::task::spawn_blocking(move || TestDb::new(backend)).await.unwrap();
        let mut env = test_env(&db);
        env.insert("MOTCUA_NATIONAL_CATALOG_URL".into(), server.url());
        env.insert("MOTCUA_NATIONAL_CATALOG_DSTCODE".into(), "000.00.00.H14".into());
        let run = || {
            let env = env.clone();
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
                    .arg("sync-catalog")
                    .env_clear()
                    .env("RUST_LOG", "warn")
                    .envs(env)
                    .output()
                    .unwrap()
            })
        };
        let first = run().await.unwrap();
        let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
        assert!(first.status.success(), "{backend:?}: {stdout} {}", String::from_utf8_lossy(&first.stderr));
        assert!(stdout.contains("succeeded: 2 created, 0 updated, 0 unchanged, 1 failed of 3"), "{stdout}");
        let second = run().await.unwrap();
        assert!(
            String::from_utf8_lossy(&second.stdout).contains("0 created, 0 updated, 2 unchanged"),
            "{}",
            String::from_utf8_lossy(&second.stdout)
        );
        server.reset();
        let _down = server.mock("POST", "/auth").with_status(503).create_async().await;
        let mut down_env = env.clone();
        down_env.insert("MOTCUA_NATIONAL_CATALOG_RETRIES".into(), "0".into());
        let failed = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
                .arg("sync-catalog")
                .env_clear()
                .env("RUST_LOG", "warn")
                .envs(down_env)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(!failed.status.success(), "a failed sync exits non-zero");
    }
}
