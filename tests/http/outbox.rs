//! The outbox and the national portal sync under faults (mockito plays the portal).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cases::{NO_RESULT, World, act, case_body, world_with};
use crate::fake_portal::{Behaviour, FakePortal};
use crate::support::*;

/// Submits online and runs the case to its end: national statuses 1, 2, 4, 9, 10.
async fn full_run(w: &World) -> String {
    let app = &w.app;
    let submitted = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    let code = submitted.body["code"].as_str().unwrap().to_owned();
    for (action, body) in [
        ("accept", json!({})),
        ("forward", json!({"to_step": "xu_ly"})),
        ("resolve", json!({"summary": "Đã xác nhận"})),
        ("return_result", json!({"method": "counter"})),
    ] {
        let done = act(app, &w.clerk, &code, action, body).await;
        assert_eq!(done.status, 200, "{action}: {}", done.text);
    }
    code
}

/// The outbox messages of `subject` (newest first).
async fn messages(w: &World, subject: &str) -> Vec<Value> {
    let page = w.app.get(&format!("/api/v1/integrations/outbox?subject={subject}&limit=100"), Some(&w.f.admin)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["items"].as_array().unwrap().clone()
}

/// Waits until every message of `subjects` satisfies `done`.
pub(crate) async fn wait_for(w: &World, subjects: &[&str], what: &str, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut all = Vec::new();
        for subject in subjects {
            all.extend(messages(w, subject).await);
        }
        if !all.is_empty() && all.iter().all(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "{:?}: waiting for {what}: {all:#?}", w.app.backend);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn portal_env(portal: &FakePortal) -> impl FnOnce(&mut std::collections::HashMap<String, String>) + use<> {
    let vars = portal.env();
    move |env| env.extend(vars)
}

/// The portal configured, but this instance only writes the queue (its dispatcher is off).
fn queueing_only(portal: &FakePortal) -> impl FnOnce(&mut std::collections::HashMap<String, String>) + use<> {
    let with_portal = portal_env(portal);
    move |env| {
        with_portal(env);
        env.insert("MOTCUA_OUTBOX_DISPATCH".into(), "false".into());
    }
}

backend_test! {
    async fn the_portal_down_then_back_gets_every_change_in_order_and_none_twice(backend: Backend) {
        let portal = FakePortal::start(Behaviour::Down).await;
        let w = world_with(backend, portal_env(&portal)).await;
        let ready = w.app.get("/health/ready", None).await;
        assert_eq!(ready.body["integrations"]["national_portal"], "on");
        assert_eq!(ready.body["background"]["motcua-outbox"], json!({"status": "running", "panics": 0}), "{}", ready.text);
        let codes = [full_run(&w).await, full_run(&w).await];
        let subjects: Vec<&str> = codes.iter().map(String::as_str).collect();
        assert_eq!(messages(&w, &codes[0]).await.len(), 5, "{backend:?}: one message per change");
        // Down: the first message of each case is tried and failed again and again; the later
        // ones wait for it.
        wait_for(&w, &subjects, "failed tries", |m| {
            m["status"] == "pending" || (m["status"] == "failed" && m["attempts"].as_i64() >= Some(2))
        })
        .await;
        let oldest = messages(&w, &codes[0]).await.pop().unwrap();
        assert_eq!((oldest["last_response_status"].as_i64(), oldest["status_label"].as_str()), (Some(503), Some("Gửi lỗi, sẽ thử lại")));
        assert!(oldest["last_error"].as_str().unwrap().contains("503"), "{oldest}");
        assert!(messages(&w, &codes[0]).await[..4].iter().all(|m| m["attempts"] == 0), "{backend:?}: later changes wait");
        let metrics = w.app.get("/metrics", None).await.text;
        assert!(metrics.contains("motcua_outbox_messages{target=\"national_portal\",status=\"pending\"} 8"), "{metrics}");
        assert!(metrics.contains("motcua_outbox_attempts_total{target=\"national_portal\",outcome=\"failed\"}"), "{metrics}");
        assert!(portal.accepted().is_empty());

        portal.set_mode(Behaviour::Up);
        wait_for(&w, &subjects, "delivery", |m| m["status"] == "sent").await;
        for code in &codes {
            let syncs = portal.dossier_syncs(code);
            let statuses: Vec<&str> = syncs.iter().map(|(_, s)| s.as_str()).collect();
            assert_eq!(statuses, ["1", "2", "4", "9", "10"], "{backend:?}: in order, each once: {syncs:?}");
            assert_eq!(syncs[0].0, "False", "the first creates");
            assert!(syncs[1..].iter().all(|(u, _)| u == "True"), "the rest update");
            assert_eq!(portal.progress(code), ["1", "2", "4", "9", "10"], "{backend:?}");
        }
        let detail = w.app.get(&format!("/api/v1/integrations/outbox/{}", oldest["id"].as_str().unwrap()), Some(&w.f.admin)).await;
        let log = detail.body["attempt_log"].as_array().unwrap();
        assert!(log.len() >= 3, "{}", detail.text);
        assert!(log[..log.len() - 1].iter().all(|a| a["outcome"] == "failed" && a["response_status"] == 503));
        assert_eq!((log.last().unwrap()["outcome"].as_str(), log.last().unwrap()["response_status"].as_i64()), (Some("sent"), Some(200)));
        assert_eq!(log[0]["request_digest"].as_str().unwrap().len(), 64);
        let metrics = w.app.get("/metrics", None).await.text;
        assert!(metrics.contains("motcua_outbox_oldest_open_age_seconds 0"), "{metrics}");
    }
}

/// The stored messages of the outbox, oldest first: (kind, ordering key, subject, payload).
fn stored(w: &World) -> Vec<(String, String, String, String)> {
    use diesel::prelude::*;
    use persistence::schema::outbox_messages::dsl as m;
    let mut conn = w.app.db.connect();
    persistence::per_backend!(&mut *conn, |c| m::outbox_messages
        .order(m::seq)
        .select((m::kind, m::ordering_key, m::subject, m::payload))
        .load(c))
    .unwrap()
}

/// The ordering keys and subjects of the outbox, oldest first.
fn stored_keys(w: &World) -> Vec<(String, String)> {
    stored(w).into_iter().map(|(_, key, subject, _)| (key, subject)).collect()
}

backend_test! {
    /// A case's messages are ordered by its id (time-ordered: new cases' messages go at the end of
    /// the ordering index) and listed by its code. Messages written before migration 25, keyed by
    /// code, are rekeyed by it (down and up again here).
    async fn case_messages_are_keyed_by_case_id_listed_by_code_and_rekeyed_by_the_migration(backend: Backend) {
        use diesel_migrations::MigrationHarness;
        let portal = FakePortal::start(Behaviour::Up).await;
        let w = world_with(backend, queueing_only(&portal)).await;
        let codes = [full_run(&w).await, full_run(&w).await];
        let ids: Vec<String> =
            codes.iter().map(|code| persistence::repo::cases::id_of(&mut w.app.db.connect(), code).unwrap().unwrap()).collect();
        for code in &codes {
            let listed = messages(&w, code).await;
            assert_eq!(listed.len(), 5, "{backend:?}: listed by code");
            assert!(listed.iter().all(|m| m["subject"] == code.as_str()), "{backend:?}: {listed:#?}");
        }
        let keyed_by = |by: &[String]| -> Vec<(String, String)> {
            [0, 1].iter().flat_map(|&i| std::iter::repeat_n((by[i].clone(), codes[i].clone()), 5)).collect()
        };
        let sorted = |mut rows: Vec<(String, String)>| {
            rows.sort_by(|a, b| a.1.cmp(&b.1));
            rows
        };
        assert_eq!(sorted(stored_keys(&w)), keyed_by(&ids), "{backend:?}: keyed by case id");
        // The reconciliation leaves cases with messages in flight alone: found by their ids.
        let asked = [codes[0].clone(), codes[1].clone(), "000.00.00.H14-261129-9999".to_owned()];
        let busy = persistence::repo::reconciliation::in_flight(&mut w.app.db.connect(), "national_portal", &asked).unwrap();
        assert_eq!(busy, codes.iter().cloned().collect(), "{backend:?}: both cases are in flight");
        let mut conn = w.app.db.connect();
        // Revert migrations down to and including 25.
        loop {
            let reverted = match &mut *conn {
                persistence::AnyConnection::Sqlite(c) => c.revert_last_migration(persistence::db::SQLITE_MIGRATIONS).map(|v| v.to_string()),
                persistence::AnyConnection::Postgresql(c) => c.revert_last_migration(persistence::db::PG_MIGRATIONS).map(|v| v.to_string()),
            }
            .unwrap();
            if reverted.contains("000025") {
                break;
            }
        }
        assert_eq!(sorted(stored_keys(&w)), keyed_by(&codes), "{backend:?}: keyed by code before migration 25");
        match &mut *conn {
            persistence::AnyConnection::Sqlite(c) => c.run_pending_migrations(persistence::db::SQLITE_MIGRATIONS).map(|_| ()),
            persistence::AnyConnection::Postgresql(c) => c.run_pending_migrations(persistence::db::PG_MIGRATIONS).map(|_| ()),
        }
        .unwrap();
        assert_eq!(sorted(stored_keys(&w)), keyed_by(&ids), "{backend:?}: rekeyed by case id");
        assert_eq!(messages(&w, &codes[1]).await.len(), 5, "{backend:?}: listed by code after the migration");
    }
}

backend_test! {
    /// A portal message names the case event it reports (no copy of the case, so no personal data
    /// in the queue); what the portal gets is built at delivery, as the event left the case. A
    /// message written before, carrying the portal's payload itself, is still delivered as it is.
    async fn portal_messages_name_the_event_and_the_dossier_is_built_at_delivery(backend: Backend) {
        use integrations::national::portal::{CaseSnapshot, CaseSync};
        let portal = FakePortal::start(Behaviour::Up).await;
        let w = world_with(backend, queueing_only(&portal)).await;
        let code = full_run(&w).await;
        let id = persistence::repo::cases::id_of(&mut w.app.db.connect(), &code).unwrap().unwrap();
        // Only the portal is configured: every message is the portal's.
        let stored: Vec<(String, String, String)> =
            stored(&w).into_iter().map(|(kind, _, subject, payload)| (kind, subject, payload)).collect();
        let expected: Vec<(String, String, String)> =
            (1..=5).map(|seq| ("case_event".into(), code.clone(), json!({"case_id": id, "event_seq": seq}).to_string())).collect();
        assert_eq!(stored, expected, "{backend:?}: one reference per event");
        // A message of the kind written before: the portal's payload itself.
        let old = CaseSync {
            case: CaseSnapshot { code: "000.20.01.H14-250101-0001".into(), status_code: 2, ..CaseSnapshot::default() },
            progress: Vec::new(),
            first: true,
        };
        let message = persistence::repo::outbox::NewMessage {
            target: "national_portal".into(),
            kind: "case_sync".into(),
            ordering_key: old.case.code.clone(),
            subject: old.case.code.clone(),
            payload: serde_json::to_string(&old).unwrap(),
        };
        persistence::repo::outbox::enqueue(&mut w.app.db.connect(), persistence::now(), &[message]).unwrap();
        let mut env = test_env(&w.app.db);
        env.extend(portal.env());
        let dispatcher = spawn_extra(env).await;
        wait_for(&w, &[&code, &old.case.code], "delivery", |m| m["status"] == "sent").await;
        assert_eq!(portal.dossier_syncs(&old.case.code), [("False".to_owned(), "2".to_owned())], "{backend:?}: the old kind");
        let dossiers = portal.items("DongBoHoSoMC", &code);
        let statuses: Vec<&str> = dossiers.iter().map(|d| d["TrangThaiHoSo"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["1", "2", "4", "9", "10"], "{backend:?}: each event's status, though delivered after the last");
        let first = &dossiers[0];
        let agency_code = code.split('-').next().unwrap();
        for (key, value) in [
            ("MaHoSo", code.as_str()),
            ("MaTTHC", NO_RESULT),
            ("TenTTHC", "Xác nhận đơn giản"),
            ("MaLinhVuc", "G09-HT"),
            ("TenLinhVuc", "Hộ tịch"),
            ("KenhThucHien", "2"),
            ("ChuHoSo", "Nông Văn Bình"),
            ("SoDienThoai", "0912345678"),
            ("TrichYeuHoSo", "Đăng ký khai sinh cho con"),
            ("MaDonViXuLy", agency_code),
            // Received, returned and finished after the submission.
            ("NgayTiepNhan", ""),
            ("NgayHenTra", ""),
            ("NgayTra", ""),
            ("NgayKetThucXuLy", ""),
        ] {
            assert_eq!(first[key], value, "{backend:?}: {key} of the submission: {first:#}");
        }
        assert_eq!(first["DinhDanhCHS"], json!([{"LoaiDinhDanh": "1", "SoDinhDanh": "004099012345"}]), "{backend:?}");
        assert_eq!(first["TaiLieuNop"][0]["MaThanhPhanHoSo"], "TK01", "{backend:?}");
        let (accepted, resolved, returned) = (&dossiers[1], &dossiers[3], &dossiers[4]);
        assert_eq!(accepted["NgayTiepNhan"].as_str().unwrap().len(), 14, "{backend:?}: received at the acceptance");
        assert_eq!(accepted["NgayHenTra"].as_str().unwrap().len(), 14, "{backend:?}: due from the acceptance");
        assert_eq!((accepted["NgayKetThucXuLy"].as_str(), accepted["NgayTra"].as_str()), (Some(""), Some("")), "{backend:?}");
        assert_eq!(resolved["NgayKetThucXuLy"].as_str().unwrap().len(), 14, "{backend:?}: finished at the resolution");
        assert_eq!(resolved["NgayTra"], "", "{backend:?}: returned later");
        assert_eq!(returned["NgayTra"].as_str().unwrap().len(), 14, "{backend:?}: returned");
        let progress = portal.items("CapNhatTienDoHoSoMC", &code);
        assert_eq!(progress.len(), 5, "{backend:?}");
        assert!(progress[3]["NoiDungXuLy"].as_str().unwrap().ends_with(": Đã xác nhận"), "{backend:?}: {:#}", progress[3]);
        assert!(progress.iter().all(|p| !p["NguoiXuLy"].as_str().unwrap().is_empty()), "{backend:?}: {progress:#?}");
        drop(dispatcher);
    }
}

backend_test! {
    async fn changes_of_several_cases_go_in_one_list_and_a_refused_case_is_sorted_out_alone(backend: Backend) {
        let portal = FakePortal::start(Behaviour::Up).await;
        // This instance only writes the queue; a second one delivers it, all in one claim.
        let w = world_with(backend, queueing_only(&portal)).await;
        let mut codes = Vec::new();
        for _ in 0..6 {
            let submitted = w.app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
            assert_eq!(submitted.status, 201, "{}", submitted.text);
            codes.push(submitted.body["code"].as_str().unwrap().to_owned());
        }
        // Two of them changed again: the second change waits for the first.
        for code in &codes[..2] {
            assert_eq!(act(&w.app, &w.clerk, code, "accept", json!({})).await.status, 200);
        }
        portal.refuse(&codes[5]);
        let mut env = test_env(&w.app.db);
        env.extend(portal.env());
        env.insert("MOTCUA_NATIONAL_PORTAL_BATCH".into(), "4".into());
        let dispatcher = spawn_extra(env).await;
        let subjects: Vec<&str> = codes.iter().map(String::as_str).collect();
        wait_for(&w, &subjects[..5], "delivery", |m| m["status"] == "sent").await;
        wait_for(&w, &subjects[5..], "a refusal", |m| m["status"] == "failed").await;
        let accepted = portal.accepted();
        let in_lists = accepted.iter().filter(|c| c.service == "DongBoHoSoMC" && c.entries > 1).count();
        assert!(in_lists >= 4, "{backend:?}: creates went in lists of up to 4: {accepted:#?}");
        assert!(accepted.iter().all(|c| c.entries <= 4 || c.service != "DongBoHoSoMC"), "{backend:?}: the batch size holds");
        assert!(accepted.iter().any(|c| c.service == "CapNhatTienDoHoSoMC" && c.entries > 1), "{backend:?}: progress in lists");
        for (i, code) in codes[..5].iter().enumerate() {
            let expected: &[(&str, &str)] = if i < 2 { &[("False", "1"), ("True", "2")] } else { &[("False", "1")] };
            let syncs = portal.dossier_syncs(code);
            let syncs: Vec<(&str, &str)> = syncs.iter().map(|(u, s)| (u.as_str(), s.as_str())).collect();
            assert_eq!(syncs, expected, "{backend:?}: {code}, each change once, in order");
            assert_eq!(portal.progress(code).len(), expected.len(), "{backend:?}: {code}");
        }
        let refused = messages(&w, &codes[5]).await.pop().unwrap();
        assert!(refused["last_error"].as_str().unwrap().contains("error_code 5"), "{refused}");
        assert!(portal.dossier_syncs(&codes[5]).is_empty());
        portal.accept_all();
        wait_for(&w, &subjects[5..], "delivery once accepted", |m| m["status"] == "sent").await;
        assert_eq!(portal.dossier_syncs(&codes[5]), [("False".to_owned(), "1".to_owned())], "{backend:?}");
        drop(dispatcher);
    }
}

backend_test! {
    async fn errors_time_outs_html_existing_cases_and_expired_sessions_are_survived(backend: Backend) {
        let portal = FakePortal::start(Behaviour::Up).await;
        let w = world_with(backend, portal_env(&portal)).await;
        // A 500, an HTML page and a time-out, then success.
        portal.script(&[Behaviour::ServerError, Behaviour::Html, Behaviour::Slow]);
        let submitted = w.app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        let code = submitted.body["code"].as_str().unwrap().to_owned();
        wait_for(&w, &[&code], "delivery after three failures", |m| m["status"] == "sent").await;
        let id = messages(&w, &code).await[0]["id"].as_str().unwrap().to_owned();
        let detail = w.app.get(&format!("/api/v1/integrations/outbox/{id}"), Some(&w.f.admin)).await;
        let log: Vec<(String, Option<i64>)> = detail.body["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["outcome"].as_str().unwrap().to_owned(), a["response_status"].as_i64()))
            .collect();
        assert_eq!(
            log,
            [("failed".into(), Some(500)), ("failed".into(), Some(200)), ("failed".into(), None), ("sent".into(), Some(200))],
            "{backend:?}: {}",
            detail.text
        );
        let errors: Vec<&str> = detail.body["attempt_log"].as_array().unwrap().iter().filter_map(|a| a["error"].as_str()).collect();
        assert!(errors[1].contains("not JSON") && errors[2].contains("in time"), "{errors:?}");

        // The portal knows the case already: the create becomes an update.
        portal.script(&[Behaviour::Exists]);
        let second = w.app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        let second = second.body["code"].as_str().unwrap().to_owned();
        wait_for(&w, &[&second], "delivery as an update", |m| m["status"] == "sent").await;
        assert_eq!(portal.dossier_syncs(&second), [("True".to_owned(), "1".to_owned())], "{backend:?}");

        // The session ends mid-run: the client logs in again once and carries on.
        let logins = portal.logins();
        portal.expire_session();
        assert_eq!(act(&w.app, &w.clerk, &second, "accept", json!({})).await.status, 200);
        wait_for(&w, &[&second], "delivery after a new login", |m| m["status"] == "sent").await;
        assert_eq!((portal.logins(), portal.refused_sessions()), (logins + 1, 1), "{backend:?}");
        assert_eq!(portal.dossier_syncs(&second).last().unwrap().1, "2");
        let attempts: Vec<i64> = messages(&w, &second).await.iter().map(|m| m["attempts"].as_i64().unwrap()).collect();
        assert_eq!(attempts, [1, 1], "{backend:?}: a renewed session is no failed try");
    }
}

backend_test! {
    async fn a_message_that_never_succeeds_dies_and_is_replayed_by_hand(backend: Backend) {
        let portal = FakePortal::start(Behaviour::ServerError).await;
        let w = world_with(backend, |env| {
            portal_env(&portal)(env);
            env.insert("MOTCUA_OUTBOX_MAX_AGE".into(), "1s".into());
        })
        .await;
        let submitted = w.app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        let code = submitted.body["code"].as_str().unwrap().to_owned();
        wait_for(&w, &[&code], "death", |m| m["status"] == "dead").await;
        let dead = messages(&w, &code).await.remove(0);
        let id = dead["id"].as_str().unwrap().to_owned();
        assert_eq!((dead["status_label"].as_str(), dead["next_attempt_at"].as_str()), (Some("Ngừng gửi"), None));
        let listed = w.app.get("/api/v1/integrations/outbox?status=dead&target=national_portal", Some(&w.f.admin)).await;
        assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.text);

        let retry = format!("/api/v1/integrations/outbox/{id}/retry");
        w.app.post(&retry, Some(&w.f.officer), json!({})).await.assert_problem(403, "forbidden");
        w.app.post(&retry, None, json!({})).await.assert_problem(401, "unauthorized");
        w.app.get("/api/v1/integrations/outbox", Some(&w.clerk)).await.assert_problem(403, "forbidden");
        w.app.get("/api/v1/integrations/outbox?status=lost", Some(&w.f.admin)).await.assert_problem(422, "validation_failed");
        w.app.get("/api/v1/integrations/outbox?target=fax", Some(&w.f.admin)).await.assert_problem(422, "validation_failed");
        w.app.post("/api/v1/integrations/outbox/nope/retry", Some(&w.f.admin), json!({})).await.assert_problem(404, "not_found");

        portal.set_mode(Behaviour::Up);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(messages(&w, &code).await[0]["status"], "dead", "{backend:?}: dead stays dead until replayed");
        let replayed = w.app.post(&retry, Some(&w.f.admin), json!({})).await;
        assert_eq!(replayed.status, 200, "{}", replayed.text);
        wait_for(&w, &[&code], "delivery after the replay", |m| m["status"] == "sent").await;
        w.app.post(&retry, Some(&w.f.admin), json!({})).await.assert_problem(409, "conflict");
        assert_eq!(portal.dossier_syncs(&code).len(), 1);
        let trail = w.app.get(&format!("/api/v1/audit?entity_type=outbox_message&entity_id={id}"), Some(&w.f.supervisor)).await;
        assert_eq!(trail.body["items"].as_array().unwrap().len(), 1, "{}", trail.text);
    }
}

backend_test! {
    async fn without_a_portal_nothing_is_queued(backend: Backend) {
        let w = world_with(backend, |_| {}).await;
        let submitted = w.app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        let code = submitted.body["code"].as_str().unwrap();
        assert!(messages(&w, code).await.is_empty());
        assert_eq!(w.app.get("/health/ready", None).await.body["integrations"]["national_portal"], "off");
    }
}

backend_test! {
    async fn reconciliation_lists_the_cases_the_portal_sees_otherwise(backend: Backend) {
        let portal = FakePortal::start(Behaviour::Up).await;
        let w = world_with(backend, |env| {
            portal_env(&portal)(env);
            env.insert("MOTCUA_RECONCILE_MS".into(), "150".into());
        })
        .await;
        let codes = [full_run(&w).await, full_run(&w).await, full_run(&w).await];
        let subjects: Vec<&str> = codes.iter().map(String::as_str).collect();
        wait_for(&w, &subjects, "delivery", |m| m["status"] == "sent").await;
        portal.forget(&codes[0]);
        portal.set_status(&codes[1], "4");
        let deadline = Instant::now() + Duration::from_secs(20);
        let found = loop {
            let page = w.app.get("/api/v1/integrations/reconciliation?target=national_portal", Some(&w.f.supervisor)).await;
            assert_eq!(page.status, 200, "{}", page.text);
            let items = page.body["items"].as_array().unwrap().clone();
            if items.len() == 2 {
                break items;
            }
            assert!(Instant::now() < deadline, "{backend:?}: {}", page.text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut got: Vec<(String, String, Option<i64>, Option<i64>)> = found
            .iter()
            .map(|f| {
                (
                    f["case_code"].as_str().unwrap().to_owned(),
                    f["kind"].as_str().unwrap().to_owned(),
                    f["ours_status"].as_i64(),
                    f["theirs_status"].as_i64(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [(codes[0].clone(), "missing".into(), Some(10), None), (codes[1].clone(), "status".into(), Some(10), Some(4))],
            "{backend:?}"
        );
        w.app.get("/api/v1/integrations/reconciliation", Some(&w.clerk)).await.assert_problem(403, "forbidden");
        w.app.get("/api/v1/integrations/reconciliation?target=sms", Some(&w.f.admin)).await.assert_problem(422, "validation_failed");
        // The portal is put right: the next run clears the findings.
        portal.set_status(&codes[1], "10");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let page = w.app.get("/api/v1/integrations/reconciliation", Some(&w.f.admin)).await;
            let items = page.body["items"].as_array().unwrap();
            if items.len() == 1 && items[0]["case_code"] == codes[0].as_str() {
                break;
            }
            assert!(Instant::now() < deadline, "{backend:?}: {}", page.text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
