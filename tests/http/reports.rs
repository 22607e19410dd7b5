//! Case statistics and periodic reports over HTTP: report 06 for hand-built cases checked cell
//! by cell, counters equal to a recount after real case actions, frozen snapshots, CSV and PDF,
//! and the scheduler freezing each period once with two servers on one database.

use chrono::{NaiveDate, NaiveDateTime};
use domain::case::CaseStatus;
use domain::case::intake::CaseSource;
use domain::procedure::Channel;
use persistence::repo::cases::{self, CaseRow};
use persistence::repo::stats;
use serde_json::{Value, json};

use crate::cases::{CODE, NO_RESULT, act, case_body, world};
use crate::support::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// Noon in Asia/Ho_Chi_Minh of a local date, as stored (UTC).
fn noon(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(5, 0, 0).unwrap()
}

struct Spec {
    name: &'static str,
    agency: usize,
    channel: &'static str,
    status: &'static str,
    received: Option<NaiveDate>,
    due: Option<NaiveDate>,
    finished: Option<NaiveDate>,
    supplement_on: Option<NaiveDate>,
}

fn row(code: &str, agency: &str, spec: &Spec) -> CaseRow {
    let at = noon(spec.received.unwrap_or(d(7, 1)));
    CaseRow {
        id: persistence::new_id(),
        code: code.to_owned(),
        procedure_code: CODE.to_owned(),
        procedure_version: 1,
        agency_id: agency.to_owned(),
        channel: Channel::parse(spec.channel, "channel").unwrap(),
        source: CaseSource::Local,
        external_id: None,
        status: if spec.received.is_some() { CaseStatus::Accepted } else { CaseStatus::Submitted },
        owner_id: None,
        applicant: "{}".into(),
        representative: None,
        summary: spec.name.into(),
        form_data: "{}".into(),
        documents: "[]".into(),
        return_method: Channel::Counter,
        current_step: None,
        assignee_id: None,
        submitted_at: at,
        received_at: spec.received.map(noon),
        due_at: spec.due.map(noon),
        original_due_at: None,
        paused_at: None,
        supplement_count: 0,
        supplement_seconds: 0,
        finished_at: None,
        returned_at: None,
        revision: 1,
        created_at: at,
        updated_at: at,
        search: code.to_lowercase(),
        step_due_at: None,
    }
}

/// Stores the case as received, then moves it (supplement request, final status) through
/// `cases::save`, so that the counters follow the same path as real actions.
fn put(conn: &mut persistence::AnyConnection, n: usize, agency: &str, spec: &Spec) {
    let mut case = row(&format!("TEST-{n:03}"), agency, spec);
    persistence::write_tx(conn, |conn| cases::insert(conn, &case)).unwrap();
    if let Some(day) = spec.supplement_on {
        let before = case.clone();
        case.status = CaseStatus::SupplementRequested;
        case.supplement_count += 1;
        case.paused_at = Some(noon(day));
        case.updated_at = noon(day);
        persistence::write_tx(conn, |conn| cases::save(conn, &before, &case)).unwrap();
    }
    if case.status.as_str() != spec.status {
        let before = case.clone();
        case.status = CaseStatus::parse(spec.status, "status").unwrap();
        case.paused_at = None;
        case.finished_at = spec.finished.map(noon);
        case.updated_at = spec.finished.map_or(case.updated_at, noon);
        persistence::write_tx(conn, |conn| cases::save(conn, &before, &case)).unwrap();
    }
}

#[rustfmt::skip]
fn specs() -> Vec<Spec> {
    let s = |name, agency, channel, status, received: Option<NaiveDate>, due: Option<NaiveDate>, finished: Option<NaiveDate>| Spec { name, agency, channel, status, received, due, finished, supplement_on: None };
    vec![
        // Commune A; the window of 2026-Q3 is 15/06 to 14/09.
        s("A1 online, early", 0, "online", "returned", Some(d(7, 1)), Some(d(7, 10)), Some(d(7, 5))),
        s("A2 on the due day", 0, "counter", "resolved", Some(d(7, 1)), Some(d(7, 10)), Some(d(7, 10))),
        s("A3 late", 0, "counter", "returned", Some(d(7, 1)), Some(d(7, 10)), Some(d(7, 20))),
        s("A4 post, overdue", 0, "postal", "processing", Some(d(8, 1)), Some(d(8, 20)), None),
        s("A5 online, within", 0, "online", "processing", Some(d(9, 1)), Some(d(9, 20)), None),
        s("A6 due on the last day", 0, "counter", "processing", Some(d(9, 10)), Some(d(9, 14)), None),
        Spec { supplement_on: Some(d(8, 5)), ..s("A7 waiting for a supplement", 0, "counter", "supplement_requested", Some(d(8, 1)), Some(d(8, 10)), None) },
        s("A8 withdrawn", 0, "online", "withdrawn", Some(d(7, 15)), Some(d(7, 30)), Some(d(7, 20))),
        s("A9 refused at reception", 0, "counter", "refused", None, None, Some(d(7, 2))),
        s("A10 never received", 0, "online", "submitted", None, None, None),
        s("A11 carried over, late", 0, "counter", "returned", Some(d(6, 1)), Some(d(6, 20)), Some(d(6, 25))),
        s("A12 closed before", 0, "counter", "returned", Some(d(6, 1)), Some(d(6, 10)), Some(d(6, 5))),
        s("A13 carried over, overdue", 0, "counter", "processing", Some(d(5, 1)), Some(d(5, 20)), None),
        s("A14 stopped", 0, "counter", "stopped", Some(d(7, 1)), Some(d(7, 5)), Some(d(7, 3))),
        s("A15 finished after, within", 0, "online", "resolved", Some(d(9, 10)), Some(d(9, 30)), Some(d(9, 20))),
        s("A16 finished after, overdue", 0, "counter", "resolved", Some(d(9, 1)), Some(d(9, 5)), Some(d(9, 20))),
        s("A17 awaiting payment", 0, "online", "awaiting_payment", Some(d(8, 15)), Some(d(8, 25)), None),
        s("A18 received after", 0, "counter", "returned", Some(d(9, 15)), Some(d(9, 20)), Some(d(9, 18))),
        s("A19 first day, on time", 0, "counter", "returned", Some(d(6, 15)), Some(d(6, 20)), Some(d(6, 20))),
        s("A20 no due date", 0, "counter", "resolved", Some(d(7, 1)), None, Some(d(7, 2))),
        // Commune B.
        s("B1 online, early", 1, "online", "returned", Some(d(7, 1)), Some(d(7, 10)), Some(d(7, 9))),
        s("B2 carried over, overdue", 1, "counter", "processing", Some(d(6, 1)), Some(d(6, 30)), None),
        s("B3 withdrawn before", 1, "counter", "withdrawn", Some(d(6, 1)), Some(d(6, 30)), Some(d(6, 14))),
        s("B4 carried over, early", 1, "online", "returned", Some(d(6, 10)), Some(d(6, 20)), Some(d(6, 15))),
        s("B5 last day, within", 1, "counter", "processing", Some(d(9, 14)), Some(d(9, 20)), None),
        s("B6 post, late", 1, "postal", "returned", Some(d(7, 1)), Some(d(7, 5)), Some(d(7, 8))),
        Spec { supplement_on: Some(d(7, 5)), ..s("B7 refused for a missing supplement", 1, "counter", "refused", Some(d(7, 1)), Some(d(7, 20)), Some(d(7, 10))) },
        Spec { supplement_on: Some(d(8, 3)), ..s("B8 supplemented, overdue", 1, "online", "processing", Some(d(8, 1)), Some(d(8, 25)), None) },
        s("B9 on time", 1, "counter", "returned", Some(d(7, 1)), Some(d(7, 10)), Some(d(7, 10))),
        s("B10 online, last day", 1, "online", "processing", Some(d(9, 14)), Some(d(9, 15)), None),
    ]
}

/// received total, online, direct/postal, carried over | resolved total, early, on time, late
/// | pending total, within, overdue | withdrawn, refused, supplement requests.
fn cells(r: &Value) -> [i64; 14] {
    let n = |p: &str| r.pointer(p).and_then(Value::as_i64).unwrap_or(-1);
    [
        n("/received/total"),
        n("/received/online"),
        n("/received/direct_postal"),
        n("/received/carried_over"),
        n("/resolved/total"),
        n("/resolved/early"),
        n("/resolved/on_time"),
        n("/resolved/late"),
        n("/pending/total"),
        n("/pending/within"),
        n("/pending/overdue"),
        n("/withdrawn"),
        n("/refused"),
        n("/supplement_requested"),
    ]
}

backend_test! {
    async fn report_06_counts_hand_built_cases_cell_by_cell(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let agencies = [w.f.commune_a.clone(), w.f.commune_b.clone()];
        let db_url = app.db.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = persistence::build_pool(&db_url, 1, false).unwrap().get().unwrap();
            for (n, spec) in specs().iter().enumerate() {
                put(&mut conn, n, &agencies[spec.agency], spec);
            }
            if let persistence::AnyConnection::Postgresql(c) = &mut *conn {
                // The insert of a case and its counter cells go as one statement, kept prepared
                // (diesel prepares every UPDATE anew, chained or not).
                #[derive(diesel::QueryableByName)]
                struct Prepared {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    statement: String,
                }
                let prepared: Vec<Prepared> = diesel::RunQueryDsl::load(
                    diesel::sql_query("SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'WITH first AS (%'"),
                    c,
                )
                .unwrap();
                let intake = "WITH first AS (INSERT INTO \"cases\"";
                assert!(prepared.iter().any(|p| p.statement.starts_with(intake)), "not prepared: {intake}…");
            }
        })
        .await
        .unwrap();

        let report = app
            .get(&format!("/api/v1/reports/periodic?template=06&period=2026-Q3&agency_id={}", w.f.province), Some(&w.f.supervisor))
            .await;
        assert_eq!(report.status, 200, "{backend:?}: {}", report.text);
        assert_eq!((report.body["from"].as_str(), report.body["to"].as_str()), (Some("2026-06-15"), Some("2026-09-14")));
        assert_eq!(report.body["period_label"], "Quý III năm 2026");
        let rows = report.body["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{}", report.text);
        assert_eq!(rows[0]["label"], "UBND phường Thục Phán");
        //                       received       resolved      pending    w  r  s
        assert_eq!(cells(&rows[0]), [16, 5, 9, 2, 7, 1, 4, 2, 9, 6, 3, 1, 1, 1], "{backend:?}: commune A");
        assert_eq!(rows[1]["label"], "UBND xã Hòa An");
        assert_eq!(cells(&rows[1]), [8, 3, 3, 2, 4, 2, 1, 1, 4, 2, 2, 0, 1, 2], "{backend:?}: commune B");
        assert_eq!(cells(&report.body["total"]), [24, 8, 12, 4, 11, 3, 5, 3, 13, 8, 5, 1, 2, 3], "{backend:?}: total");

        // The same window by day: every day's row and the total keep received = resolved + pending,
        // and the last day's pending equals the report's.
        let by_day = app.get("/api/v1/statistics/cases?from=2026-06-15&to=2026-09-14&group_by=day", Some(&w.f.supervisor)).await;
        assert_eq!(by_day.status, 200, "{}", by_day.text);
        let days = by_day.body["rows"].as_array().unwrap();
        assert_eq!(days.len(), 92);
        for r in days {
            let c = cells(r);
            assert_eq!(c[0], c[4] + c[8], "{backend:?}: {}", r["key"]);
            assert_eq!(c[0], c[1] + c[2] + c[3]);
        }
        assert_eq!(cells(&days[91])[8..11], [13, 8, 5]);
        assert_eq!(cells(&days[0])[3], 4, "carried into 15/06: A11, A13, B2, B4");
        assert_eq!(cells(&by_day.body["total"]), cells(&report.body["total"]));
        // By channel and by procedure.
        let by_channel = app.get("/api/v1/statistics/cases?from=2026-06-15&to=2026-09-14&group_by=channel", Some(&w.f.supervisor)).await;
        let channels: Vec<(&str, i64)> = by_channel.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["key"].as_str().unwrap(), r["received"]["total"].as_i64().unwrap()))
            .collect();
        assert_eq!(channels.iter().map(|c| c.1).sum::<i64>(), 24, "{channels:?}");
        let by_procedure = app.get("/api/v1/statistics/cases?from=2026-06-15&to=2026-09-14&group_by=field", Some(&w.f.supervisor)).await;
        assert_eq!(by_procedure.status, 200, "{}", by_procedure.text);
        assert_eq!(cells(&by_procedure.body["rows"][0]), cells(&report.body["total"]));

        // CSV for spreadsheets: BOM, Vietnamese headers, one line per row plus the total.
        let csv = app
            .send(
                reqwest::Method::GET,
                "/api/v1/reports/periodic?template=06&period=2026-Q3",
                Some(&w.f.supervisor),
                None,
                &[("Accept", "text/csv")],
            )
            .await;
        assert_eq!(csv.status, 200);
        assert!(csv.content_type().starts_with("text/csv"));
        assert!(csv.text.starts_with('\u{feff}'), "BOM");
        let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(
            lines[0].starts_with("STT,Đơn vị,Tổng số nhận giải quyết,Trực tuyến,\"Trực tiếp, dịch vụ bưu chính\",Từ kỳ trước"),
            "{}",
            lines[0]
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3], ",Tổng cộng,24,8,12,4,11,3,5,3,13,8,5,1,2,3");
        // PDF with the Vietnamese layout.
        let (status, kind, pdf) =
            crate::forms::fetch(app, "/api/v1/reports/periodic?template=06&period=2026-Q3", &w.f.supervisor, "application/pdf").await;
        assert_eq!((status, kind.as_str()), (200, "application/pdf"));
        let text = crate::forms::pdf_text(&pdf);
        assert!(text.contains("TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"), "{text}");
        assert!(text.contains("Quý III năm 2026 (Từ ngày 15/06/2026 đến ngày 14/09/2026)"), "{text}");
        assert!(text.contains("UBND xã Hòa An"), "{text}");

        // Scope and input: commune B's staff see only B; citizens nothing; bad values are 422.
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        let mine = app.get("/api/v1/reports/periodic?template=06&period=2026-Q3", Some(&clerk_b)).await;
        assert_eq!(cells(&mine.body["total"]), cells(&rows[1]));
        app.get(&format!("/api/v1/reports/periodic?template=06&period=2026-Q3&agency_id={}", w.f.commune_a), Some(&clerk_b))
            .await
            .assert_problem(404, "not_found");
        app.get("/api/v1/reports/periodic?template=06&period=2026-Q3", Some(&w.citizen)).await.assert_problem(403, "forbidden");
        for bad in [
            "template=07&period=2026-Q3",
            "template=06&period=2026-Q5",
            "template=06&period=2026-Q3&group_by=day",
            "template=06&period=2026&format=xml",
        ] {
            app.get(&format!("/api/v1/reports/periodic?{bad}"), Some(&w.f.supervisor)).await.assert_problem(422, "validation_failed");
        }
        app.get("/api/v1/statistics/cases?from=2026-01-01&to=2026-12-31&group_by=week", Some(&w.f.supervisor))
            .await
            .assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn counters_equal_a_recount_after_real_actions_and_snapshots_stay_frozen(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let mut codes = Vec::new();
        for channel in ["online", "counter", "counter", "postal", "counter", "online"] {
            let token = if channel == "online" { &w.citizen } else { &w.clerk };
            let created = app.post("/api/v1/cases", Some(token), case_body(NO_RESULT, channel)).await;
            assert_eq!(created.status, 201, "{}", created.text);
            codes.push(created.body["code"].as_str().unwrap().to_owned());
        }
        let steps: [(usize, &str, Value); 11] = [
            (0, "accept", json!({})),
            (0, "request_supplement", json!({"reason": "Thiếu bản sao", "items": ["Bản sao giấy tờ"]})),
            (0, "submit_supplement", json!({})),
            (0, "resolve", json!({"summary": "Xong"})),
            (0, "return_result", json!({"method": "counter"})),
            (1, "withdraw", json!({"reason": "Không cần nữa"})),
            (2, "apologize", json!({"reason": "Cần xác minh", "new_due_at": "2099-01-05T10:00:00Z"})),
            (3, "stop", json!({"reason": "Dừng theo yêu cầu"})),
            (4, "resolve", json!({"summary": "Xong"})),
            (5, "refuse", json!({"reason": "Không thuộc thẩm quyền"})),
            (2, "resolve", json!({"summary": "Xong"})),
        ];
        for (i, action, body) in steps {
            let token = if action == "submit_supplement" { &w.citizen } else { &w.clerk };
            let done = act(app, token, &codes[i], action, body).await;
            assert_eq!(done.status, 200, "{backend:?}: {action}: {}", done.text);
        }
        let today = chrono::Utc::now().with_timezone(&domain::time::VN).date_naive();
        let path = format!("/api/v1/statistics/cases?from={today}&to={today}&group_by=channel");
        let counted = app.get(&path, Some(&w.clerk)).await;
        // Resolved today against due dates to come: early, or on time for the withdrawal.
        let c = cells(&counted.body["total"]);
        assert_eq!(c, [5, 1, 4, 0, 4, 3, 1, 0, 1, 1, 0, 1, 1, 1], "{backend:?}: {}", counted.text);

        let db_url = app.db.url.clone();
        let check = move || {
            let mut conn = persistence::build_pool(&db_url, 1, false).unwrap().get().unwrap();
            assert!(stats::recount(&mut conn).unwrap().len() > 1, "something to count");
            assert_eq!(stats::check(&mut conn).unwrap(), Vec::<&str>::new(), "every sum table equals a recount");
        };
        tokio::task::spawn_blocking(check.clone()).await.unwrap();

        // Freeze today's monthly statistics; later changes leave the snapshot as it was.
        let month = today.format("%Y-%m").to_string();
        let frozen = app.post("/api/v1/reports/periodic", Some(&w.f.agency_admin), json!({"template": "monthly", "period": month})).await;
        assert_eq!(frozen.status, 201, "{backend:?}: {}", frozen.text);
        assert_eq!(frozen.body["agency_id"], json!(w.f.commune_a));
        assert_eq!(frozen.body["submission_status"], "not_sent");
        let id = frozen.body["id"].as_str().unwrap().to_owned();
        let before = frozen.body["report"]["total"].clone();
        assert_eq!(before["resolved"]["total"], 4);
        assert_eq!(act(app, &w.clerk, &codes[4], "return_result", json!({"method": "counter"})).await.status, 200);
        let created = app.post("/api/v1/cases", Some(&w.clerk), case_body(NO_RESULT, "counter")).await;
        assert_eq!(created.status, 201);
        let live = app.get(&format!("/api/v1/reports/periodic?template=monthly&period={month}"), Some(&w.clerk)).await;
        assert_eq!(live.body["total"]["received"]["total"], 6, "{}", live.text);
        let again = app.get(&format!("/api/v1/reports/{id}"), Some(&w.clerk)).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.body["report"]["total"], before, "{backend:?}: the snapshot did not move");
        let csv = app.get(&format!("/api/v1/reports/{id}?format=csv"), Some(&w.clerk)).await;
        assert!(csv.text.contains(",Tổng cộng,5,"), "{}", csv.text);
        // The database refuses to edit or delete a snapshot.
        let db_url = app.db.url.clone();
        let tamper = tokio::task::spawn_blocking(move || {
            let mut conn = persistence::build_pool(&db_url, 1, false).unwrap().get().unwrap();
            let edit = persistence::db::execute_raw(&mut conn, &format!("UPDATE report_snapshots SET content = '{{}}' WHERE id = '{id}'"));
            let delete = persistence::db::execute_raw(&mut conn, &format!("DELETE FROM report_snapshots WHERE id = '{id}'"));
            (edit.is_err(), delete.is_err())
        })
        .await
        .unwrap();
        assert_eq!(tamper, (true, true), "{backend:?}");
        tokio::task::spawn_blocking(check).await.unwrap();

        // Who may freeze and read: officers and citizens may not freeze; commune B does not see A's.
        app.post("/api/v1/reports/periodic", Some(&w.clerk), json!({"template": "monthly", "period": month}))
            .await
            .assert_problem(403, "forbidden");
        app.post("/api/v1/reports/periodic", Some(&w.citizen), json!({"template": "monthly", "period": month}))
            .await
            .assert_problem(403, "forbidden");
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        let frozen_id = frozen.body["id"].as_str().unwrap();
        app.get(&format!("/api/v1/reports/{frozen_id}"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        assert_eq!(app.get("/api/v1/reports", Some(&clerk_b)).await.body["items"], json!([]));
        assert_eq!(app.get("/api/v1/reports", Some(&w.f.supervisor)).await.body["items"][0]["id"], frozen_id);
    }
}

backend_test! {
    async fn two_servers_freeze_each_scheduled_period_once(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_REPORT_SCHEDULE_MS".into(), "150".into());
            env.insert("MOTCUA_REPORT_TIME".into(), "00:00".into());
        })
        .await;
        let mut env = test_env(&app.db);
        env.insert("MOTCUA_REPORT_SCHEDULE_MS".into(), "150".into());
        env.insert("MOTCUA_REPORT_TIME".into(), "00:00".into());
        let second = spawn_extra(env).await;
        let admin = app.admin().await;
        app.user(&admin, "supervisor", "supervisor", None, &[]).await;
        let supervisor = app.token("supervisor", PASSWORD).await;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if app.get("/api/v1/reports?limit=100", Some(&supervisor)).await.body["items"].as_array().unwrap().len() >= 5 {
                break;
            }
        }
        // Let both schedulers run a few more rounds, then count.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let items = app.get("/api/v1/reports?limit=100", Some(&supervisor)).await.body["items"].as_array().unwrap().clone();
        let mut periods: Vec<String> =
            items.iter().map(|i| format!("{} {}", i["template"].as_str().unwrap(), i["period"].as_str().unwrap())).collect();
        assert!(items.iter().all(|i| i["trigger"] == "scheduled"));
        let count = periods.len();
        periods.sort();
        periods.dedup();
        assert_eq!(periods.len(), count, "{backend:?}: a period frozen twice: {periods:?}");
        assert!(periods.len() >= 5, "{backend:?}: the five statutory periods: {periods:?}");
        second.handle.stop(true).await;
        drop(second);
    }
}
