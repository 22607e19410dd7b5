//! Persistence tests on both backends: SQLite always, PostgreSQL when `TEST_PG_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use diesel::prelude::*;
use diesel::{Connection, RunQueryDsl};
use persistence::repo::{agencies, audit};
use persistence::{AnyConnection, Backend, Pool};

struct Db {
    backend: Backend,
    pool: Pool,
    url: String,
    dir: PathBuf,
    pg_name: Option<String>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let (Some(name), Ok(admin)) = (&self.pg_name, std::env::var("TEST_PG_URL"))
            && let Ok(mut c) = diesel::PgConnection::establish(&admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn databases(migrate: bool) -> Vec<Db> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("motcua-persist-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = dir.join("test.db").to_string_lossy().into_owned();
    let mut out = vec![Db {
        backend: Backend::Sqlite,
        pool: persistence::build_pool(&url, 8, migrate).unwrap(),
        url,
        dir: dir.clone(),
        pg_name: None,
    }];
    if let Ok(admin) = std::env::var("TEST_PG_URL")
        && !admin.is_empty()
    {
        let name = format!("p_{}", &id[..16]);
        let mut c = diesel::PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).unwrap();
        // The database name replaced, connection parameters (`?sslmode=disable`, …) kept.
        let (address, query) = admin.split_once('?').map_or((admin.as_str(), None), |(a, q)| (a, Some(q)));
        let base = address.rsplit_once('/').unwrap().0;
        let url = query.map_or_else(|| format!("{base}/{name}"), |q| format!("{base}/{name}?{q}"));
        out.push(Db {
            backend: Backend::Postgres,
            pool: persistence::build_pool(&url, 8, migrate).unwrap(),
            url,
            dir: dir.join("pg"),
            pg_name: Some(name),
        });
    }
    out
}

#[test]
fn both_migration_sets_hold_the_same_versions() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let list = |sub: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(root.join(sub)).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
    assert_eq!(persistence::db::migration_versions(Backend::Sqlite), persistence::db::migration_versions(Backend::Postgres));
    for dir in list("sqlite") {
        for side in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                assert!(root.join(side).join(&dir).join(file).is_file(), "{side}/{dir}/{file}");
            }
        }
    }
}

#[test]
fn every_table_of_the_schema_loads_on_both_backends() {
    use persistence::schema::*;
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        let conn: &mut AnyConnection = &mut conn;
        // Selecting every column through schema.rs fails at run time when a column drifted.
        persistence::repo::agencies::insert(
            conn,
            persistence::repo::agencies::NewAgency {
                code: "000.00.00.H14".into(),
                name: "UBND".into(),
                level: "province".into(),
                parent_id: None,
            },
        )
        .unwrap();
        let loaded: Vec<persistence::repo::agencies::AgencyRow> =
            agencies::table.select(persistence::repo::agencies::AgencyRow::as_select()).load(conn).unwrap();
        assert_eq!(loaded.len(), 1);
        users::table.select(persistence::repo::users::UserRow::as_select()).load(conn).unwrap();
        sessions::table.select(persistence::repo::sessions::SessionRow::as_select()).load(conn).unwrap();
        role_ledger::table.select(persistence::repo::ledger::LedgerRow::as_select()).load(conn).unwrap();
        audit_log::table.select(persistence::repo::audit::AuditRow::as_select()).load(conn).unwrap();
        refresh_tokens::table.select(refresh_tokens::all_columns).limit(1).execute(conn).unwrap();
        idempotency_keys::table.select(idempotency_keys::all_columns).limit(1).execute(conn).unwrap();
        let head: (i32, i64, String) = audit_head::table.select(audit_head::all_columns).first(conn).unwrap();
        assert_eq!(head, (1, 0, domain::audit::GENESIS_HASH.to_owned()), "{:?}", db.backend);
    }
}

#[test]
fn migrations_go_down_and_up_again() {
    use diesel_migrations::MigrationHarness;
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        match &mut *conn {
            AnyConnection::Sqlite(c) => {
                c.revert_all_migrations(persistence::db::SQLITE_MIGRATIONS).unwrap();
                c.run_pending_migrations(persistence::db::SQLITE_MIGRATIONS).unwrap();
            }
            AnyConnection::Postgresql(c) => {
                c.revert_all_migrations(persistence::db::PG_MIGRATIONS).unwrap();
                c.run_pending_migrations(persistence::db::PG_MIGRATIONS).unwrap();
            }
        }
        assert!(persistence::db::migrations_complete(&mut conn).unwrap(), "{:?}", db.backend);
    }
}

#[test]
fn every_foreign_key_has_an_index_on_postgres() {
    for db in databases(true).into_iter().filter(|d| d.backend == Backend::Postgres) {
        #[derive(QueryableByName)]
        struct Missing {
            #[diesel(sql_type = diesel::sql_types::Text)]
            constraint_name: String,
        }
        let mut conn = db.pool.get().unwrap();
        let AnyConnection::Postgresql(c) = &mut *conn else { unreachable!() };
        let missing: Vec<Missing> = diesel::sql_query(
            "SELECT c.conname::text AS constraint_name FROM pg_constraint c
             WHERE c.contype = 'f' AND NOT EXISTS (
               SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
               AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] = c.conkey)",
        )
        .load(c)
        .unwrap();
        let names: Vec<&str> = missing.iter().map(|m| m.constraint_name.as_str()).collect();
        assert!(names.is_empty(), "foreign keys without an index: {names:?}");
    }
}

#[test]
fn request_counters_restart_with_each_window_and_login_failures_lock_a_pair() {
    use chrono::{NaiveDate, TimeDelta};
    use persistence::repo::limits;
    let t0 = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap().and_hms_opt(2, 0, 0).unwrap();
    let minute = TimeDelta::minutes(1);
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        let conn: &mut AnyConnection = &mut conn;
        let hit = |conn: &mut AnyConnection, client: &str, at| limits::count_hit(conn, "login", client, at, at - minute).unwrap();
        assert_eq!(hit(conn, "a", t0), (1, t0), "{:?}", db.backend);
        assert_eq!(hit(conn, "a", t0 + TimeDelta::seconds(30)), (2, t0));
        assert_eq!(hit(conn, "b", t0 + TimeDelta::seconds(30)).0, 1, "per client");
        assert_eq!(hit(conn, "a", t0 + minute), (1, t0 + minute), "a new window");
        assert_eq!(limits::purge_hits(conn, t0 + TimeDelta::seconds(31)).unwrap(), 1, "b's old window");

        let fail = |conn: &mut AnyConnection, at| limits::record_failure(conn, "admin", "a", at, at - minute, 3, at + minute).unwrap();
        assert_eq!((fail(conn, t0), fail(conn, t0)), (None, None));
        assert_eq!(fail(conn, t0), Some(t0 + minute), "the third failure locks");
        assert_eq!(limits::locked_until(conn, "admin", "a", t0).unwrap(), Some(t0 + minute));
        assert_eq!(limits::locked_until(conn, "admin", "b", t0).unwrap(), None, "another address is free");
        assert_eq!(limits::locked_until(conn, "admin", "a", t0 + minute).unwrap(), None, "the lock ends");
        assert_eq!(fail(conn, t0 + TimeDelta::minutes(5)), None, "old failures no longer count");
        limits::clear_failures(conn, "admin", "a").unwrap();
        assert_eq!(limits::purge_failures(conn, t0 + TimeDelta::days(2)).unwrap(), 0);
    }
}

#[test]
fn check_constraints_list_exactly_the_domain_values() {
    fn names<T: domain::WireName>(all: &[T]) -> Vec<String> {
        all.iter().map(|v| v.wire_name().to_owned()).collect()
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for side in ["sqlite", "postgres"] {
        let values = |migration: &str, column: &str| -> Vec<String> {
            let sql = std::fs::read_to_string(root.join(side).join(migration).join("up.sql")).unwrap();
            let start = sql.find(&format!("CHECK ({column} IN (")).unwrap() + column.len() + 12;
            let end = start + sql[start..].find(')').unwrap();
            sql[start..end].split(',').map(|v| v.trim().trim_matches('\'').to_owned()).collect()
        };
        let foundation = "2026-11-28-000001_foundation";
        assert_eq!(values(foundation, "role"), names(domain::Role::ALL), "{side}");
        assert_eq!(values(foundation, "level"), names(domain::AgencyLevel::ALL), "{side}");
        assert_eq!(values("2026-11-28-000008_cases", "status"), names(domain::case::CaseStatus::ALL), "{side}");
        assert_eq!(values("2026-11-28-000009_case_documents", "kind"), names(domain::case::DocumentKind::ALL), "{side}");
        assert_eq!(values("2026-11-28-000016_feedback", "kind"), names(domain::feedback::FeedbackKind::ALL), "{side}");
        assert_eq!(values("2026-11-28-000016_feedback", "category"), names(domain::feedback::FeedbackCategory::ALL), "{side}");
    }
}

/// SQLite is built with the query planner stability guarantee (`.cargo/config.toml`): without
/// it every statement with a bound `LIMIT` is compiled again on each run.
#[test]
fn sqlite_keeps_its_prepared_statements() {
    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }
    let db = databases(false).remove(0);
    let AnyConnection::Sqlite(c) = &mut *db.pool.get().unwrap() else { panic!("SQLite first") };
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(c).unwrap();
    assert!(options.iter().any(|o| o.compile_options == "ENABLE_QPSG"), "built without SQLITE_ENABLE_QPSG");
}

#[test]
fn timestamps_round_trip_at_microsecond_precision() {
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        let row = agencies::insert(
            &mut conn,
            agencies::NewAgency { code: "000.00.00.H14".into(), name: "UBND".into(), level: "province".into(), parent_id: None },
        )
        .unwrap();
        let back = agencies::find(&mut conn, &row.id).unwrap().unwrap();
        assert_eq!(back.created_at, row.created_at, "{:?}", db.backend);
        assert_eq!(back.created_at.and_utc().timestamp_subsec_nanos() % 1000, 0);
    }
}

/// Timestamps read through `timestamp::{Ts, OptTs}` (the fast SQLite parse) as diesel's own
/// parser reads them: in diesel's form, in forms only diesel's parser reads, and null.
#[test]
fn fast_timestamp_columns_read_what_diesel_reads() {
    use chrono::Timelike;
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::Timestamp, deserialize_as = persistence::timestamp::Ts)]
        written: chrono::NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        by_diesel: chrono::NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, deserialize_as = persistence::timestamp::OptTs)]
        other_form: Option<chrono::NaiveDateTime>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, deserialize_as = persistence::timestamp::OptTs)]
        none: Option<chrono::NaiveDateTime>,
    }
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap().and_hms_micro_opt(7, 8, 9, 123_450).unwrap();
    for db in databases(false) {
        let mut conn = db.pool.get().unwrap();
        let (other, cast) = match db.backend {
            Backend::Sqlite => ("'2026-11-30T07:08:09Z'", ""),
            Backend::Postgres => ("TIMESTAMP '2026-11-30 07:08:09'", "::timestamp"),
        };
        let sql = format!("SELECT $1{cast} AS written, $1{cast} AS by_diesel, {other} AS other_form, NULL{cast} AS none");
        let read: Read =
            persistence::per_backend!(&mut *conn, |c| diesel::sql_query(&sql).bind::<diesel::sql_types::Timestamp, _>(at).get_result(c))
                .unwrap();
        assert_eq!((read.written, read.by_diesel), (at, at), "{:?}", db.backend);
        assert_eq!(read.other_form, Some(at.with_nanosecond(0).unwrap()), "{:?}", db.backend);
        assert_eq!(read.none, None, "{:?}", db.backend);
    }
}

#[test]
fn search_is_case_and_diacritic_insensitive_with_literal_wildcards() {
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        for (code, name) in
            [("000.00.00.H14", "UBND tỉnh Cao Bằng"), ("000.00.01.H14", "Phòng 50%_A Đà Nẵng"), ("000.00.02.H14", "Phòng 50xxA")]
        {
            agencies::insert(&mut conn, unit(code, name)).unwrap();
        }
        let find = |conn: &mut AnyConnection, term: &str| {
            let filter = agencies::AgencyFilter { name_like: Some(domain::text::like_contains(term)), limit: 10, ..Default::default() };
            agencies::list(conn, &filter).unwrap().items.into_iter().map(|a| a.code).collect::<Vec<_>>()
        };
        assert_eq!(find(&mut conn, "cao bang"), vec!["000.00.00.H14"], "{:?}", db.backend);
        assert_eq!(find(&mut conn, "CAO BA\u{0300}NG".replace('\u{0300}', "\u{0306}").as_str()), vec!["000.00.00.H14"]);
        assert_eq!(find(&mut conn, "50%_"), vec!["000.00.01.H14"], "{:?}: wildcards are literals", db.backend);
        assert_eq!(find(&mut conn, "da nang"), vec!["000.00.01.H14"]);
    }
}

#[test]
fn concurrent_appends_keep_one_unbroken_chain() {
    for db in databases(true) {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let pool = db.pool.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    for i in 0..25 {
                        persistence::write_tx(&mut conn, |c| {
                            audit::append(
                                c,
                                audit::NewAuditEntry {
                                    action: "test".into(),
                                    entity_type: "t".into(),
                                    entity_id: format!("{t}-{i}"),
                                    ..Default::default()
                                },
                            )
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        // Two chainers run while the writers append, as on two server instances.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let chainers: Vec<_> = (0..2)
            .map(|_| {
                let (pool, done) = (db.pool.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        audit::chain_pending(&mut conn, 7).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in chainers {
            t.join().unwrap();
        }
        let mut conn = db.pool.get().unwrap();
        audit::chain_all(&mut conn).unwrap();
        assert_eq!(audit::pending_count(&mut conn).unwrap(), 0);
        // Pending entries cannot be edited before they are chained either.
        persistence::write_tx(&mut conn, |c| {
            audit::append(
                c,
                audit::NewAuditEntry { action: "x".into(), entity_type: "t".into(), entity_id: "late".into(), ..Default::default() },
            )
        })
        .unwrap();
        assert!(persistence::db::execute_raw(&mut conn, "UPDATE audit_pending SET entity_id = 'forged'").is_err(), "{:?}", db.backend);
        assert_eq!(audit::chain_all(&mut conn).unwrap(), 1);
        let outcome = audit::verify(&mut conn).unwrap();
        assert_eq!(outcome, audit::Verification { ok: true, entries: 201, first_broken_seq: None }, "{:?} ({})", db.backend, db.url);
    }
}

#[test]
fn a_failed_write_transaction_leaves_nothing_behind() {
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        let result: Result<(), persistence::RepoError> = persistence::write_tx(&mut conn, |c| {
            agencies::insert(c, unit("000.00.00.H14", "A"))?;
            audit::append(
                c,
                audit::NewAuditEntry { action: "x".into(), entity_type: "agency".into(), entity_id: "1".into(), ..Default::default() },
            )?;
            // Duplicate code: the whole transaction rolls back.
            agencies::insert(c, unit("000.00.00.H14", "B"))?;
            Ok(())
        });
        assert!(
            matches!(result, Err(persistence::RepoError::Conflict(persistence::ConflictKind::DuplicateAgencyCode))),
            "{:?}",
            db.backend
        );
        assert_eq!(agencies::count(&mut conn).unwrap(), 0);
        assert_eq!(audit::chain_all(&mut conn).unwrap(), 0);
        assert_eq!(audit::verify(&mut conn).unwrap().entries, 0);
    }
}

#[test]
fn a_group_commit_undoes_only_the_writes_of_the_jobs_that_fail_or_panic() {
    let agency = |code: &str| unit(code, code);
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        type Job<'a> = Box<dyn FnOnce(&mut AnyConnection) -> Result<(), persistence::RepoError> + 'a>;
        let job = |code: &'static str, then: &'static str| -> Job<'_> {
            Box::new(move |c: &mut AnyConnection| {
                persistence::write_tx(c, |c| {
                    agencies::insert(c, agency(code))?;
                    match then {
                        "fail" => agencies::insert(c, agency(code)).map(|_| ()),
                        "panic" => panic!("a job that panics"),
                        _ => Ok(()),
                    }
                })
            })
        };
        let jobs =
            vec![job("000.00.01.H14", "ok"), job("000.00.02.H14", "fail"), job("000.00.03.H14", "panic"), job("000.00.04.H14", "ok")];
        let (results, committed) = persistence::write_group(&mut conn, jobs);
        committed.unwrap();
        // The panicking job has no result; the others answer in order.
        assert_eq!(results.len(), 3, "{:?}", db.backend);
        assert!(results[0].is_ok() && results[2].is_ok(), "{:?}: {results:?}", db.backend);
        assert!(matches!(results[1], Err(persistence::RepoError::Conflict(persistence::ConflictKind::DuplicateAgencyCode))));
        let kept: Vec<bool> = ["000.00.01.H14", "000.00.02.H14", "000.00.03.H14", "000.00.04.H14"]
            .iter()
            .map(|code| agencies::find_by_code(&mut conn, code).unwrap().is_some())
            .collect();
        assert_eq!(kept, [true, false, false, true], "{:?}", db.backend);
        // The connection is out of every transaction and takes the next write as usual.
        persistence::write_tx(&mut conn, |c| agencies::insert(c, agency("000.00.05.H14")).map(|_| ())).unwrap();
        assert_eq!(agencies::count(&mut conn).unwrap(), 3, "{:?}", db.backend);
    }
}

#[derive(diesel::QueryableByName)]
struct TempStore {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    temp_store: i32,
}

#[test]
fn the_sqlite_writer_undoes_a_large_failed_write_from_its_in_memory_statement_journal() {
    for db in databases(true) {
        let writer = persistence::build_writer_pool(&db.url).unwrap();
        let mut conn = writer.get().unwrap();
        if db.backend == Backend::Sqlite {
            let mode = |conn: &mut AnyConnection| match conn {
                AnyConnection::Sqlite(c) => diesel::sql_query("PRAGMA temp_store").get_result::<TempStore>(c).unwrap().temp_store,
                AnyConnection::Postgresql(_) => unreachable!(),
            };
            // 2 = memory: the writer's savepoints journal pages without a temporary file; the
            // other connections keep the default (temporary files past the spill size).
            assert_eq!(mode(&mut conn), 2);
            assert_eq!(mode(&mut db.pool.get().unwrap()), 0);
        }
        // Each job changes far more than the 64 KiB a statement journal holds before it
        // spills; the second fails after all its inserts and must leave nothing behind.
        type Job = Box<dyn FnOnce(&mut AnyConnection) -> Result<(), persistence::RepoError>>;
        let job = |prefix: u32, fail: bool| -> Job {
            Box::new(move |c: &mut AnyConnection| {
                persistence::write_tx(c, |c| {
                    for i in 0..400 {
                        let code = format!("{prefix:03}.{:02}.{:02}.H14", i / 100, i % 100);
                        agencies::insert(c, unit(&code, &"Ủy ban nhân dân ".repeat(20)))?;
                    }
                    if fail {
                        agencies::insert(c, unit(&format!("{prefix:03}.00.00.H14"), "dup"))?;
                    }
                    Ok(())
                })
            })
        };
        let (results, committed) = persistence::write_group(&mut conn, vec![job(101, false), job(102, true), job(103, false)]);
        committed.unwrap();
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok(), "{:?}: {results:?}", db.backend);
        assert_eq!(agencies::count(&mut conn).unwrap(), 800, "{:?}", db.backend);
        assert!(agencies::find_by_code(&mut conn, "102.00.01.H14").unwrap().is_none(), "{:?}", db.backend);
        assert!(agencies::find_by_code(&mut conn, "103.03.99.H14").unwrap().is_some(), "{:?}", db.backend);
    }
}

#[test]
fn a_checkpoint_copies_the_whole_wal_back_on_sqlite() {
    for db in databases(true) {
        let mut conn = db.pool.get().unwrap();
        commune(&db);
        match persistence::db::checkpoint(&mut conn).unwrap() {
            Some((log, checkpointed)) => {
                assert_eq!(db.backend, Backend::Sqlite);
                // Migrations and the insert above are in the WAL (10,000 pages before a
                // committing connection would checkpoint by itself), and no reader holds it.
                assert!(log > 0 && checkpointed == log, "{log} frames, {checkpointed} checkpointed");
            }
            None => assert_eq!(db.backend, Backend::Postgres),
        }
    }
}

/// A top-level unit agency to insert.
fn unit(code: &str, name: &str) -> agencies::NewAgency {
    agencies::NewAgency { code: code.into(), name: name.into(), level: "unit".into(), parent_id: None }
}

/// A commune to hang cases and counters on; its id.
fn commune(db: &Db) -> String {
    let mut conn = db.pool.get().unwrap();
    agencies::insert(
        &mut conn,
        agencies::NewAgency { code: "000.20.01.H14".into(), name: "UBND".into(), level: "commune".into(), parent_id: None },
    )
    .unwrap()
    .id
}

#[test]
fn case_sequences_never_repeat_under_concurrent_intake() {
    for db in databases(true) {
        let agency = commune(&db);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (pool, agency) = (db.pool.clone(), agency.clone());
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    (0..25)
                        .map(|i| {
                            persistence::write_tx(&mut conn, |c| {
                                let n = persistence::repo::case_sequences::next(c, &agency, date)?;
                                // Every fifth intake fails after taking its number and rolls back.
                                if i % 5 == 4 { Err(persistence::RepoError::NotFound) } else { Ok(n) }
                            })
                        })
                        .filter_map(Result::ok)
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        let mut numbers: Vec<i64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=160).collect::<Vec<i64>>(), "{:?}: committed numbers are 1..=160, no repeats, no gaps", db.backend);
        let mut conn = db.pool.get().unwrap();
        let other_day = persistence::repo::case_sequences::next(&mut conn, &agency, date.succ_opt().unwrap()).unwrap();
        assert_eq!(other_day, 1, "each day starts at 1");
    }
}

#[test]
fn concurrent_counter_changes_and_folders_count_everything_once() {
    use domain::stats::Counters;
    use persistence::repo::stats::{self, Group};
    for db in databases(true) {
        let agency = commune(&db);
        let day = |n: u64| chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(n);
        let writers: Vec<_> = (0..6_u64)
            .map(|w| {
                let (pool, agency) = (db.pool.clone(), agency.clone());
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    for i in 0..40_u64 {
                        let cells = [
                            (day((w * 40 + i) % 70), Counters { received: 1, ..Counters::default() }),
                            (day((w + i) % 90), Counters { due: 1, past_due: 2, ..Counters::default() }),
                        ];
                        let channel = if i % 2 == 0 { "online" } else { "counter" };
                        persistence::write_tx(&mut conn, |c| stats::apply(c, (&agency, "P1", channel), &cells)).unwrap();
                    }
                })
            })
            .collect();
        let folders: Vec<_> = (0..2)
            .map(|_| {
                let pool = db.pool.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    (0..30).map(|_| stats::fold(&mut conn, 7).unwrap()).sum::<usize>()
                })
            })
            .collect();
        for t in writers {
            t.join().unwrap();
        }
        let folded: usize = folders.into_iter().map(|t| t.join().unwrap()).sum();
        let mut conn = db.pool.get().unwrap();
        let rest = stats::fold_all(&mut conn).unwrap();
        assert_eq!(folded + rest, 6 * 40 * 2, "{:?}: every pending row folded exactly once", db.backend);
        let (from, to) = (day(0), day(200));
        for group in [Group::Total, Group::Agency, Group::Procedure, Group::Channel] {
            let sums = stats::window_sums(&mut conn, None, group, from, to).unwrap();
            let mut total = Counters::default();
            for s in sums.values() {
                total += s.inside + s.last + s.before;
            }
            assert_eq!((total.received, total.due, total.past_due), (240, 240, 480), "{:?} {group:?}", db.backend);
        }
    }
}

mod outbox_queue {
    use super::*;
    use persistence::repo::outbox::{self, Finished, Lease, NewMessage, Outcome};

    fn message(key: &str, n: u32) -> NewMessage {
        NewMessage {
            target: "national_portal".into(),
            kind: "case_sync".into(),
            ordering_key: key.into(),
            subject: key.into(),
            payload: format!("{{\"n\":{n}}}"),
        }
    }

    fn at(seconds: i64) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(8, 0, 0).unwrap() + chrono::TimeDelta::seconds(seconds)
    }

    fn lease(worker: &str, now: i64, limit: i64) -> Lease<'_> {
        Lease { worker, now: at(now), until: at(now + 30), limit, targets: &["national_portal"] }
    }

    fn sent(row: &outbox::LeasedMessage, now: i64) -> Finished {
        Finished {
            seq: row.seq,
            id: row.id.clone(),
            attempt: row.attempts,
            started_at: at(now),
            finished_at: at(now),
            request_digest: Some("d".into()),
            response_status: Some(200),
            outcome: Outcome::Sent { reference: None },
        }
    }

    /// The dispatcher takes leases on the writer and reads the messages afterwards: the read
    /// gives only what the worker still holds at the attempt it took.
    #[test]
    fn leased_messages_are_read_back_only_while_the_lease_of_that_attempt_holds() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            outbox::enqueue(&mut conn, at(0), &[message("A", 1), message("B", 1), message("A", 2)]).unwrap();
            let first = outbox::lease_due(&mut conn, &lease("w1", 1, 10)).unwrap();
            assert_eq!(first.iter().map(|t| t.attempt).collect::<Vec<_>>(), [1, 1], "{:?}: A1 and B1", db.backend);
            let mut reader = db.pool.get().unwrap();
            let rows = outbox::leased(&mut reader, "w1", &first).unwrap();
            let got: Vec<_> = rows.iter().map(|m| (m.ordering_key.as_str(), m.payload.as_str(), m.attempts)).collect();
            assert_eq!(got, [("A", "{\"n\":1}", 1), ("B", "{\"n\":1}", 1)], "{:?}", db.backend);
            assert!(outbox::leased(&mut reader, "w2", &first).unwrap().is_empty(), "{:?}: not w2's", db.backend);
            // The leases run out (until 31) and w2 takes both over: w1's reading is empty.
            let second = outbox::lease_due(&mut conn, &lease("w2", 40, 10)).unwrap();
            assert_eq!(second.iter().map(|t| (t.seq, t.attempt)).collect::<Vec<_>>(), first.iter().map(|t| (t.seq, 2)).collect::<Vec<_>>());
            assert!(outbox::leased(&mut reader, "w1", &first).unwrap().is_empty(), "{:?}: w1 lost its leases", db.backend);
            assert_eq!(outbox::leased(&mut reader, "w2", &second).unwrap().len(), 2, "{:?}", db.backend);
            let stale = [outbox::Taken { seq: first[0].seq, attempt: 1 }];
            assert!(outbox::leased(&mut reader, "w2", &stale).unwrap().is_empty(), "{:?}: attempt 1 is over", db.backend);
        }
    }

    #[test]
    fn claims_take_the_earliest_open_message_of_each_key_and_honour_leases() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            outbox::enqueue(&mut conn, at(0), &[message("A", 1), message("B", 1), message("A", 2), message("A", 3)]).unwrap();
            let first = outbox::claim(&mut conn, &lease("w1", 1, 10)).unwrap();
            let got: Vec<_> = first.iter().map(|m| (m.ordering_key.as_str(), m.payload.as_str(), m.attempts)).collect();
            assert_eq!(got, [("A", "{\"n\":1}", 1), ("B", "{\"n\":1}", 1)], "{:?}: one per key, oldest first", db.backend);
            assert!(outbox::claim(&mut conn, &lease("w2", 2, 10)).unwrap().is_empty(), "{:?}: A2 waits for A1", db.backend);
            // A1 fails: A2 still waits (order per key); B1 is sent.
            let failed = Finished {
                outcome: Outcome::Failed { next_attempt_at: at(100), error: "HTTP 500".into() },
                response_status: Some(500),
                ..sent(&first[0], 3)
            };
            assert_eq!(outbox::finish(&mut conn, "w1", &[failed, sent(&first[1], 3)]).unwrap().len(), 2);
            assert!(outbox::claim(&mut conn, &lease("w2", 50, 10)).unwrap().is_empty(), "{:?}: A1 not due yet", db.backend);
            let again = outbox::claim(&mut conn, &lease("w2", 100, 10)).unwrap();
            assert_eq!((again.len(), again[0].payload.as_str(), again[0].attempts), (1, "{\"n\":1}", 2));
            // The lease runs out: another worker takes the message over; the first cannot record.
            let taken = outbox::claim(&mut conn, &lease("w3", 200, 10)).unwrap();
            let owner = outbox::find(&mut conn, &taken[0].id).unwrap().and_then(|m| m.lease_owner);
            assert_eq!((taken.len(), taken[0].attempts, owner.as_deref()), (1, 3, Some("w3")));
            assert!(
                outbox::finish(&mut conn, "w2", &[sent(&again[0], 201)]).unwrap().is_empty(),
                "{:?}: a lost lease records nothing",
                db.backend
            );
            assert_eq!(outbox::finish(&mut conn, "w3", &[sent(&taken[0], 201)]).unwrap(), [taken[0].seq]);
            let log = outbox::attempts(&mut conn, std::slice::from_ref(&taken[0].id)).unwrap();
            let outcomes: Vec<_> = log.iter().map(|a| (a.attempt, a.outcome.as_str(), a.worker.as_str())).collect();
            assert_eq!(outcomes, [(1, "failed", "w1"), (2, "abandoned", "w2"), (3, "sent", "w3")], "{:?}", db.backend);
            // The delivering try is kept in the message: it started with its lease, ended with
            // the outcome, and sent the payload.
            let delivered = log.last().unwrap();
            assert_eq!(
                (delivered.started_at, delivered.finished_at, delivered.response_status, delivered.request_digest.clone()),
                (at(200), Some(at(201)), Some(200), Some(domain::audit::digest(b"{\"n\":1}"))),
                "{:?}",
                db.backend
            );
            // Then A2 and A3 in order.
            for expected in ["{\"n\":2}", "{\"n\":3}"] {
                let next = outbox::claim(&mut conn, &lease("w1", 300, 10)).unwrap();
                assert_eq!(next.iter().map(|m| m.payload.as_str()).collect::<Vec<_>>(), [expected]);
                outbox::finish(&mut conn, "w1", &[sent(&next[0], 300)]).unwrap();
            }
            assert_eq!(outbox::open_count(&mut conn, "national_portal").unwrap(), 0);
        }
    }

    /// A message written with the change it reports ([`outbox::enqueue_with`]): both rows are
    /// there on either backend; on PostgreSQL one message goes in the change's own statement,
    /// kept prepared (what intake does with its first event).
    #[test]
    fn a_message_goes_in_the_statement_of_its_change() {
        use persistence::schema::audit_pending as a;
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            for n in 1..=3 {
                let change = diesel::insert_into(a::table).values((
                    a::at.eq(at(0)),
                    a::action.eq("case.create"),
                    a::entity_type.eq("case"),
                    a::entity_id.eq(format!("C{n}")),
                ));
                // Two messages at once take the ordinary path.
                let messages = if n == 3 { vec![message("K", n), message("K", n + 1)] } else { vec![message("K", n)] };
                persistence::write_tx(&mut conn, |c| outbox::enqueue_with(c, change, at(0), &messages)).unwrap();
            }
            let changes: i64 = a::table.count().get_result(&mut *conn).unwrap();
            assert_eq!((changes, outbox::open_count(&mut conn, "national_portal").unwrap()), (3, 4), "{:?}", db.backend);
            if let AnyConnection::Postgresql(c) = &mut *conn {
                let chained: i64 = diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'WITH first AS (INSERT INTO \"audit_pending\"%'",
                )
                .get_result::<Count>(c)
                .unwrap()
                .n;
                assert_eq!(chained, 1, "one prepared statement for the change and its message");
            }
        }
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    /// The claim's probe for the earliest open message of a key is a lookup of the key index,
    /// and cannot fall back on the due-time index: after statistics taken while every message
    /// was sent (the usual state) and a backlog built up (the portal was down), PostgreSQL once
    /// chose that index and scanned every open message per candidate (13 s a claim with 10,000
    /// open). The second half drops the key index inside a transaction that is rolled back, to
    /// see what else the planner could take.
    #[test]
    fn the_claim_probes_the_key_index_and_cannot_scan_the_due_index() {
        /// Ends the transaction by rolling it back, carrying what was read inside.
        enum Rollback {
            Plan(Vec<String>),
            Db(String),
        }
        impl From<diesel::result::Error> for Rollback {
            fn from(e: diesel::result::Error) -> Self {
                Self::Db(e.to_string())
            }
        }
        fn probe(plan: &[String]) -> String {
            let from = plan.iter().position(|l| l.contains("SubPlan") || l.contains("SUBQUERY")).expect("a subquery in the plan");
            plan[from..].join("\n")
        }
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            let old: Vec<NewMessage> = (0..300).map(|i| message(&format!("OLD{i}"), 1)).collect();
            outbox::enqueue(&mut conn, at(0), &old).unwrap();
            let claimed = outbox::claim(&mut conn, &lease("w1", 1, 500)).unwrap();
            let done: Vec<Finished> = claimed.iter().map(|m| sent(m, 2)).collect();
            assert_eq!(outbox::finish(&mut conn, "w1", &done).unwrap().len(), 300);
            persistence::db::analyze(&mut conn).unwrap();
            let backlog: Vec<NewMessage> = (0..2000).map(|i| message(&format!("NEW{i}"), 1)).collect();
            outbox::enqueue(&mut conn, at(10), &backlog).unwrap();
            let plan = outbox::claim_plan(&mut conn, &lease("w1", 20, 200)).unwrap();
            assert!(
                probe(&plan).contains("outbox_messages_order_idx"),
                "{:?}: the probe uses the key index:\n{}",
                db.backend,
                plan.join("\n")
            );
            // The candidates come in the due-time index's order: the claim stops after its
            // limit instead of probing and sorting every due message.
            let outer =
                plan.iter().take_while(|l| !l.contains("SubPlan") && !l.contains("SUBQUERY")).cloned().collect::<Vec<_>>().join("\n");
            assert!(
                outer.contains("outbox_messages_open_idx") && !outer.contains("Sort") && !outer.contains("TEMP B-TREE"),
                "{:?}: the claim walks the due-time index in its order:\n{}",
                db.backend,
                plan.join("\n")
            );
            let without: Result<(), Rollback> = persistence::write_tx(&mut conn, |conn| {
                persistence::db::execute_raw(conn, "DROP INDEX outbox_messages_order_idx")?;
                Err(Rollback::Plan(outbox::claim_plan(conn, &lease("w1", 20, 200)).map_err(|e| Rollback::Db(e.to_string()))?))
            });
            let plan = match without {
                Err(Rollback::Plan(plan)) => plan,
                Err(Rollback::Db(e)) => panic!("{:?}: {e}", db.backend),
                Ok(()) => unreachable!("the closure always rolls back"),
            };
            assert!(
                !probe(&plan).contains("outbox_messages_open_idx"),
                "{:?}: the probe scans the due-time index:\n{}",
                db.backend,
                plan.join("\n")
            );
            assert_eq!(outbox::claim(&mut conn, &lease("w1", 20, 200)).unwrap().len(), 200, "{:?}: the key index is back", db.backend);
        }
    }

    /// `depth` (every scrape of `/metrics`) reads the open and dead messages through their
    /// partial indexes, never the sent ones that make up most of the table.
    #[test]
    fn the_depth_reads_the_partial_indexes_not_every_message() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            let old: Vec<NewMessage> = (0..3000).map(|i| message(&format!("OLD{i}"), 1)).collect();
            outbox::enqueue(&mut conn, at(0), &old).unwrap();
            persistence::db::execute_raw(&mut conn, "UPDATE outbox_messages SET status = 'sent'").unwrap();
            outbox::enqueue(&mut conn, at(10), &[message("NEW", 1)]).unwrap();
            persistence::db::analyze(&mut conn).unwrap();
            let plan = outbox::depth_plan(&mut conn).unwrap().join("\n");
            let scans_table = match db.backend {
                Backend::Sqlite => plan.lines().any(|l| l.contains("SCAN outbox_messages") && !l.contains("INDEX")),
                Backend::Postgres => plan.contains("Seq Scan"),
            };
            assert!(!scans_table, "{:?}: depth reads every message:\n{plan}", db.backend);
            assert!(plan.contains("outbox_messages_dead_idx"), "{:?}: the dead ones through their index:\n{plan}", db.backend);
            let depth = outbox::depth(&mut conn).unwrap();
            assert_eq!(depth.by_target_status, [("national_portal".into(), "pending".into(), 1)], "{:?}", db.backend);
        }
    }

    #[test]
    fn a_dead_message_is_replayed_by_hand_and_other_targets_are_not_claimed() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            let mut sms = message("C", 1);
            sms.target = "sms".into();
            outbox::enqueue(&mut conn, at(0), &[message("A", 1), sms]).unwrap();
            let claimed = outbox::claim(&mut conn, &lease("w1", 1, 10)).unwrap();
            assert_eq!(claimed.len(), 1, "{:?}: only the targets asked for", db.backend);
            let dead = Finished { outcome: Outcome::Dead { error: "never".into() }, response_status: Some(400), ..sent(&claimed[0], 2) };
            outbox::finish(&mut conn, "w1", &[dead]).unwrap();
            assert!(outbox::claim(&mut conn, &lease("w1", 10_000, 10)).unwrap().is_empty(), "dead stays dead");
            assert_eq!(outbox::retry(&mut conn, &claimed[0].id, at(20_000)).unwrap(), Some(true));
            assert_eq!(outbox::retry(&mut conn, &claimed[0].id, at(20_000)).unwrap(), Some(false), "pending: nothing to replay");
            assert_eq!(outbox::retry(&mut conn, "no-such-id", at(20_000)).unwrap(), None);
            let replayed = outbox::claim(&mut conn, &lease("w1", 20_001, 10)).unwrap();
            assert_eq!((replayed.len(), replayed[0].attempts, replayed[0].retry_from), (1, 2, at(20_000)));
            let depth = outbox::depth(&mut conn).unwrap();
            assert_eq!(depth.by_target_status, [("national_portal".into(), "pending".into(), 1), ("sms".into(), "pending".into(), 1)]);
            assert_eq!(depth.oldest_open, Some(at(0)));
        }
    }

    #[test]
    fn old_sent_messages_are_purged_with_their_tries_and_open_ones_kept() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            outbox::enqueue(&mut conn, at(0), &[message("A", 1), message("B", 1), message("C", 1)]).unwrap();
            let claimed = outbox::claim(&mut conn, &lease("w1", 1, 10)).unwrap();
            let failed = Finished {
                outcome: Outcome::Failed { next_attempt_at: at(100), error: "x".into() },
                response_status: Some(500),
                ..sent(&claimed[2], 2)
            };
            // Outcomes recorded together share their recording time; these come one by one.
            outbox::finish(&mut conn, "w1", &[sent(&claimed[0], 2), failed]).unwrap();
            outbox::finish(&mut conn, "w1", &[sent(&claimed[1], 50)]).unwrap();
            assert_eq!(outbox::purge_sent(&mut conn, at(10), 100).unwrap(), 1, "{:?}: only the old sent one", db.backend);
            assert!(outbox::find(&mut conn, &claimed[0].id).unwrap().is_none());
            assert!(outbox::attempts(&mut conn, std::slice::from_ref(&claimed[0].id)).unwrap().is_empty());
            assert!(outbox::find(&mut conn, &claimed[1].id).unwrap().is_some());
            assert_eq!(outbox::purge_sent(&mut conn, at(1000), 100).unwrap(), 1, "the failed one stays");
        }
    }

    #[test]
    fn a_stopping_dispatcher_gives_its_leases_back() {
        for db in databases(true) {
            let mut conn = db.pool.get().unwrap();
            outbox::enqueue(&mut conn, at(0), &[message("A", 1), message("B", 1)]).unwrap();
            assert_eq!(outbox::claim(&mut conn, &lease("w1", 1, 10)).unwrap().len(), 2);
            assert_eq!(outbox::release(&mut conn, "w1", at(2)).unwrap(), 2);
            let again = outbox::claim(&mut conn, &lease("w2", 3, 10)).unwrap();
            assert_eq!(again.iter().map(|m| m.attempts).collect::<Vec<_>>(), [2, 2], "{:?}: at once, not after the lease", db.backend);
            let log = outbox::attempts(&mut conn, std::slice::from_ref(&again[0].id)).unwrap();
            assert_eq!((log[0].attempt, log[0].outcome.as_str()), (1, "abandoned"));
        }
    }

    #[test]
    fn concurrent_dispatchers_never_share_an_attempt_and_deliver_each_message_once() {
        for db in databases(true) {
            let keys = 40;
            {
                let mut conn = db.pool.get().unwrap();
                let messages: Vec<_> = (0..5).flat_map(|n| (0..keys).map(move |k| message(&format!("K{k}"), n))).collect();
                outbox::enqueue(&mut conn, at(0), &messages).unwrap();
            }
            let workers: Vec<_> = (0..4)
                .map(|w| {
                    let pool = db.pool.clone();
                    std::thread::spawn(move || {
                        let name = format!("w{w}");
                        let mut conn = pool.get().unwrap();
                        let mut delivered = Vec::new();
                        let mut idle = 0;
                        while idle < 50 {
                            let claimed = outbox::claim(&mut conn, &lease(&name, 1, 7)).unwrap();
                            if claimed.is_empty() {
                                idle += 1;
                                std::thread::sleep(std::time::Duration::from_millis(2));
                                continue;
                            }
                            idle = 0;
                            delivered.extend(claimed.iter().map(|m| (m.ordering_key.clone(), m.payload.clone(), m.seq)));
                            let done: Vec<_> = claimed.iter().map(|m| sent(m, 2)).collect();
                            assert_eq!(outbox::finish(&mut conn, &name, &done).unwrap().len(), done.len());
                        }
                        delivered
                    })
                })
                .collect();
            let mut all: Vec<(String, String, i64)> = workers.into_iter().flat_map(|t| t.join().unwrap()).collect();
            assert_eq!(all.len(), keys * 5, "{:?}: every message delivered exactly once", db.backend);
            all.sort_by_key(|(_, _, seq)| *seq);
            let mut seen = std::collections::HashSet::new();
            for (_, _, seq) in &all {
                assert!(seen.insert(*seq), "{:?}: message {seq} delivered twice", db.backend);
            }
            let mut conn = db.pool.get().unwrap();
            assert_eq!(outbox::open_count(&mut conn, "national_portal").unwrap(), 0);
        }
    }
}
