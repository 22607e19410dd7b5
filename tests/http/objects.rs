//! Files in a shared S3-compatible object store (a real Garage that `make test` starts through
//! `scripts/with-garage.sh`): what one instance stores, another with its own data directory
//! serves; moving a local store into the bucket keeps every file readable.

use std::collections::HashMap;

use serde_json::json;

use crate::cases::{CODE, act, case_body, upload, world_with};
use crate::support::*;
use crate::types::CaseDocument;

/// The `MOTCUA_S3_*` settings of the test server, each test under a prefix of its own; `None`
/// without one.
pub fn s3_env() -> Option<HashMap<String, String>> {
    let get = |name: &str| std::env::var(format!("MOTCUA_TEST_S3_{name}")).ok().filter(|v| !v.is_empty());
    Some(HashMap::from([
        ("MOTCUA_S3_ENDPOINT".to_owned(), get("ENDPOINT")?),
        ("MOTCUA_S3_BUCKET".to_owned(), get("BUCKET")?),
        ("MOTCUA_S3_ACCESS_KEY_ID".to_owned(), get("ACCESS_KEY_ID")?),
        ("MOTCUA_S3_SECRET_ACCESS_KEY".to_owned(), get("SECRET_ACCESS_KEY")?),
        ("MOTCUA_S3_PREFIX".to_owned(), format!("test-{}", uuid::Uuid::new_v4().simple())),
    ]))
}

backend_test! {
    async fn a_document_stored_through_one_instance_is_served_by_another(backend: Backend) {
        let Some(s3) = s3_env() else {
            eprintln!("skipped: no S3 server (make test starts Garage through scripts/with-garage.sh)");
            return;
        };
        let settings = s3.clone();
        let w = world_with(backend, move |env| env.extend(settings)).await;
        let app = &w.app;
        let code = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await.case(201).code;
        let stored = upload(app, &w.citizen, &code, "application", b"%PDF-1.7 to khai qua cong").await;
        let document: CaseDocument = stored.expect(201);
        let url = stored.header("location").unwrap().to_owned();

        // A second instance on the same database, with a data directory of its own.
        let mut env = test_env(&app.db);
        env.extend(s3);
        let elsewhere = app.db.dir.join("second-instance");
        env.insert("MOTCUA_DATA_DIR".into(), elsewhere.to_string_lossy().into_owned());
        let second = spawn_extra(env).await;
        let ready = into_resp(app.client.get(format!("{}/health/ready", second.base)).send().await.unwrap()).await;
        assert_eq!((ready.status.as_u16(), ready.body["files"].as_str(), ready.body["files_ok"].as_bool()), (200, Some("s3"), Some(true)));
        let download = app.client.get(format!("{}{url}", second.base)).bearer_auth(&w.citizen).send().await.unwrap();
        assert_eq!(download.status(), 200, "{backend:?}: {}", document.id);
        assert_eq!(&download.bytes().await.unwrap()[..], b"%PDF-1.7 to khai qua cong");
        assert!(!elsewhere.join("files").exists() && !app.db.dir.join("files").exists(), "{backend:?}: nothing went to a local directory");

        // The result uploaded through the second instance unlocks resolve on the first.
        act(app, &w.clerk, &code, "accept", json!({})).await.case(200);
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(&b"%PDF-1.7 ket qua"[..]).file_name("ket-qua.pdf"))
            .text("kind", "result");
        let result = app.client.post(format!("{}/api/v1/cases/{code}/documents", second.base)).bearer_auth(&w.clerk).multipart(form).send().await.unwrap();
        assert_eq!(result.status(), 201);
        assert_eq!(act(app, &w.clerk, &code, "resolve", json!({"decision_number": "1/GKS"})).await.case(200).status, "resolved");
    }
}

backend_test! {
    async fn moving_the_local_store_into_the_bucket_keeps_every_file(backend: Backend) {
        let Some(s3) = s3_env() else {
            eprintln!("skipped: no S3 server (make test starts Garage through scripts/with-garage.sh)");
            return;
        };
        // Stored locally first.
        let w = crate::cases::world(backend).await;
        let app = &w.app;
        let code = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await.case(201).code;
        let stored = upload(app, &w.citizen, &code, "application", b"%PDF-1.7 truoc khi chuyen").await;
        assert_eq!(stored.status, 201, "{}", stored.text);
        let url = stored.header("location").unwrap().to_owned();

        // The local store of this test's server is `<data dir>/files`.
        let local = app.db.dir.join("files");
        let (moved, listed) = {
            let s3 = s3.clone();
            tokio::task::spawn_blocking(move || {
                let config = integrations::objects::ObjectStoreConfig {
                    endpoint: s3["MOTCUA_S3_ENDPOINT"].clone(),
                    bucket: s3["MOTCUA_S3_BUCKET"].clone(),
                    prefix: s3["MOTCUA_S3_PREFIX"].clone(),
                    region: "garage".into(),
                    access_key_id: s3["MOTCUA_S3_ACCESS_KEY_ID"].clone(),
                    secret_access_key: s3["MOTCUA_S3_SECRET_ACCESS_KEY"].clone(),
                };
                let bucket = api::files::FileStore::object(&config).unwrap();
                (api::backup::move_files(&local, &bucket).unwrap(), bucket.list().unwrap().len())
            })
            .await
            .unwrap()
        };
        assert_eq!((moved, listed), (1, 1), "{backend:?}");

        // A server on the bucket, with an empty data directory, serves the file.
        let mut env = test_env(&app.db);
        env.extend(s3);
        env.insert("MOTCUA_DATA_DIR".into(), app.db.dir.join("moved").to_string_lossy().into_owned());
        let second = spawn_extra(env).await;
        let download = app.client.get(format!("{}{url}", second.base)).bearer_auth(&w.citizen).send().await.unwrap();
        assert_eq!(download.status(), 200, "{backend:?}");
        assert_eq!(&download.bytes().await.unwrap()[..], b"%PDF-1.7 truoc khi chuyen");
    }
}
