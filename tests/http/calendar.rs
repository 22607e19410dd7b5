//! The working calendar over HTTP.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

backend_test! {
    async fn the_calendar_lists_defaults_and_overrides_and_only_system_admins_change_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let f = app.fixture().await;
        let year = app.get("/api/v1/calendar/days?year=2026", None).await;
        assert_eq!(year.status, 200, "{backend:?}: {}", year.text);
        let items = year.body["items"].as_array().unwrap();
        let find = |date: &str| items.iter().find(|i| i["date"] == date).cloned();
        assert_eq!(find("2026-02-17").unwrap()["name"], "Tết Nguyên đán");
        assert_eq!(find("2026-04-27").unwrap()["kind"], "compensatory_off");
        assert_eq!(find("2026-01-01").unwrap()["source"], "default");
        assert_eq!(find("2026-01-01").unwrap()["kind_label"], "Ngày lễ, tết");

        let swap = json!({"kind": "compensatory_workday", "name": "Làm bù cho ngày 31/8"});
        for token in [&f.officer, &f.agency_admin, &f.supervisor] {
            app.request(Method::PUT, "/api/v1/calendar/days/2026-08-22", Some(token), Some(swap.clone()))
                .await
                .assert_problem(403, "forbidden");
        }
        app.request(Method::PUT, "/api/v1/calendar/days/2026-08-22", None, Some(swap.clone())).await.assert_problem(401, "unauthorized");
        let stored = app.request(Method::PUT, "/api/v1/calendar/days/2026-08-22", Some(&f.admin), Some(swap.clone())).await;
        assert_eq!(stored.status, 200, "{backend:?}: {}", stored.text);
        assert_eq!(stored.body["source"], "override");
        let off = json!({"kind": "compensatory_off", "name": "Nghỉ bù (hoán đổi 22/8)"});
        assert_eq!(app.request(Method::PUT, "/api/v1/calendar/days/2026-08-31", Some(&f.admin), Some(off)).await.status, 200);
        let year = app.get("/api/v1/calendar/days?year=2026", None).await;
        let saturday = year.body["items"].as_array().unwrap().iter().find(|i| i["date"] == "2026-08-22").cloned().unwrap();
        assert_eq!(saturday["kind"], "compensatory_workday");

        // The swapped Saturday is worked, the Monday is not.
        let due = app.get("/api/v1/calendar/due-date?start=2026-08-21T16:00:00%2B07:00&duration=2&unit=working_hour", None).await;
        assert_eq!(due.body["due_at"], "2026-08-22T08:00:00+07:00", "{backend:?}: {}", due.text);
        let due = app.get("/api/v1/calendar/due-date?start=2026-08-28T16:00:00%2B07:00&duration=2&unit=working_hour", None).await;
        assert_eq!(due.body["due_at"], "2026-09-03T08:00:00+07:00", "{}", due.text);

        let deleted = app.request(Method::DELETE, "/api/v1/calendar/days/2026-08-22", Some(&f.admin), None).await;
        assert_eq!(deleted.status, 204);
        app.request(Method::DELETE, "/api/v1/calendar/days/2026-08-22", Some(&f.admin), None).await.assert_problem(404, "not_found");
        app.request(Method::DELETE, "/api/v1/calendar/days/2026-08-31", Some(&f.officer), None).await.assert_problem(403, "forbidden");

        let trail = app.get("/api/v1/audit?entity_type=calendar_day&entity_id=2026-08-22", Some(&f.admin)).await;
        let actions: Vec<&str> = trail.body["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["calendar.put", "calendar.delete"]);

        // Bad input.
        for (path, body) in [
            ("/api/v1/calendar/days/2026-13-01", json!({"kind": "holiday", "name": "x"})),
            ("/api/v1/calendar/days/yesterday", json!({"kind": "holiday", "name": "x"})),
            ("/api/v1/calendar/days/3026-01-01", json!({"kind": "holiday", "name": "x"})),
            ("/api/v1/calendar/days/2026-05-02", json!({"kind": "party", "name": "x"})),
            ("/api/v1/calendar/days/2026-05-02", json!({"kind": "holiday", "name": ""})),
        ] {
            app.request(Method::PUT, path, Some(&f.admin), Some(body)).await.assert_problem(422, "validation_failed");
        }
        app.get("/api/v1/calendar/days?year=3000", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/calendar/days", None).await.assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn the_due_date_explains_itself_and_refuses_bad_input(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let due = app.get("/api/v1/calendar/due-date?start=2026-02-13T09:00:00%2B07:00&duration=1&unit=working_day", None).await;
        assert_eq!(due.status, 200, "{backend:?}: {}", due.text);
        assert_eq!(due.body["start_at"], "2026-02-13T09:00:00+07:00");
        assert_eq!(due.body["due_at"], "2026-02-23T09:00:00+07:00");
        let skipped: Vec<(&str, &str)> = due.body["skipped_days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["date"].as_str().unwrap(), d["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(
            skipped,
            [
                ("2026-02-14", "weekend"),
                ("2026-02-15", "weekend"),
                ("2026-02-16", "holiday"),
                ("2026-02-17", "holiday"),
                ("2026-02-18", "holiday"),
                ("2026-02-19", "holiday"),
                ("2026-02-20", "holiday"),
                ("2026-02-21", "weekend"),
                ("2026-02-22", "weekend"),
            ]
        );
        assert_eq!(due.body["skipped_days"][2]["reason"], "Tết Nguyên đán");
        // UTC input, cut-off and calendar days.
        let cut = app.get("/api/v1/calendar/due-date?start=2026-11-02T08:30:00Z&duration=1&unit=working_day&cutoff=15:00", None).await;
        assert_eq!(cut.body["due_at"], "2026-11-03T17:00:00+07:00", "{}", cut.text);
        for query in [
            "start=2026-11-02T09:00:00Z&duration=-1&unit=working_day",
            "start=2026-11-02T09:00:00Z&duration=5&unit=fortnight",
            "start=tomorrow&duration=5&unit=working_day",
            "start=2026-11-02T09:00:00Z&duration=5&unit=working_day&cutoff=25:00",
            "start=2026-11-02T09:00:00Z&duration=999999&unit=working_day",
            "start=2026-11-02T09:00:00Z&unit=working_day",
            "start=9999-11-02T09:00:00Z&duration=1&unit=working_day",
        ] {
            app.get(&format!("/api/v1/calendar/due-date?{query}"), None).await.assert_problem(422, "validation_failed");
        }
    }
}
