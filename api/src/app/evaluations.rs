//! The evaluation of agencies (Circular 01/2018 Chapter III): the manual scores of the
//! indicators that are not computed from cases, self-assessed by the agency or appraised.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::Role;
use domain::case::{CaseAction, report_timeliness};
use domain::evaluation::{self, AgencyClass, Score};
use domain::procedure::{Channel, OnlineLevel};
use persistence::AnyConnection;
use persistence::repo::agencies::{self, AgencyRow};
use persistence::repo::evaluations::{self as repo, FinishedCase, ManualScoresRow};
use persistence::repo::feedback;
use persistence::repo::stats::{self, Group};

use crate::app::AppError;
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// The names of the nine indicators (Circular 01/2018 Chapter III).
pub const NAMES: [&str; 9] = [
    "Tổng thời gian giải quyết TTHC so với quy định",
    "Thời gian thực hiện của từng cơ quan tham gia giải quyết",
    "Số lần phải liên hệ nơi tiếp nhận để hoàn thiện hồ sơ",
    "Số cơ quan, tổ chức phải liên hệ để hoàn thiện hồ sơ",
    "Tổ chức tiếp nhận, giải quyết, trả kết quả tại Bộ phận Một cửa",
    "Công khai thủ tục hành chính",
    "Thái độ của cán bộ, công chức, viên chức",
    "Tiếp thu, giải trình phản ánh, kiến nghị",
    "Tiến độ, chất lượng cung cấp dịch vụ công trực tuyến",
];

/// One indicator of an agency.
pub struct Indicator {
    pub number: u8,
    pub name: &'static str,
    /// From the data; none where the data does not decide.
    pub computed: Option<f64>,
    pub self_score: Option<u8>,
    pub appraised_score: Option<u8>,
    /// What counts: appraised, else self-assessed, else computed.
    pub points: Option<f64>,
    /// What the computed score rests on.
    pub basis: String,
}

/// An agency's evaluation for a quarter.
pub struct AgencyEvaluation {
    pub agency_id: String,
    pub agency_name: String,
    pub quarter: String,
    /// Cases resolved in the quarter (the base of indicators 1–4 and 7).
    pub cases_evaluated: usize,
    pub indicators: Vec<Indicator>,
    /// Out of 18.
    pub total: f64,
    pub class: AgencyClass,
    /// 1 for the highest total among the agencies evaluated together.
    pub rank: usize,
    pub deduction_reasons: Option<String>,
}

fn score_f64(s: Score) -> Option<f64> {
    match s {
        Score::Points(p) => Some(f64::from(p)),
        Score::Undecided => None,
    }
}

/// An event of a case's history: when, what, and the due instant of the step it enters.
type Event = (DateTime<Utc>, Option<CaseAction>, Option<DateTime<Utc>>);

/// Per-case indicators 1, 2, 3, 4 and 7 of one finished case.
fn case_scores(case: &FinishedCase, events: &[Event], complained: bool, now: DateTime<Utc>) -> [Score; 5] {
    let day = domain::time::local_date;
    let finished = Some(report_timeliness(case.due_at.map(day), case.finished_at.map(day), day(now.naive_utc())));
    let handovers: Vec<_> = events
        .iter()
        .filter(|(_, a, _)| a.is_some_and(CaseAction::hands_over))
        .map(|(at, a, due)| (*at, a.is_some_and(CaseAction::enters_step), *due))
        .collect();
    let steps = evaluation::step_judgements(&handovers, now);
    let requests = usize::try_from(case.supplement_count).unwrap_or(0);
    [
        evaluation::total_time(finished),
        evaluation::step_times(&steps),
        evaluation::contacts(requests),
        // Supplements are asked by the one-stop unit of the case's agency: one body at most.
        evaluation::bodies_contacted(requests.min(1)),
        evaluation::conduct(finished, usize::from(complained)),
    ]
}

fn manual(json: &str) -> BTreeMap<u8, u8> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Evaluates every agency under `root` for the quarter (`YYYY-Qn`), best first: per-case
/// indicators 1–4 and 7 averaged over the cases finished in the quarter, agency-level indicators
/// 6, 8 and 9 from the catalogue, the feedback and the statistics, indicator 5 from the manual
/// scores; the appraised score wins over the self-assessed one, which wins over the computed.
///
/// # Errors
/// `validation_failed` for a bad quarter; database errors.
pub fn evaluate_agencies(
    conn: &mut AnyConnection,
    state: &AppState,
    root: Option<&agencies::AgencyRow>,
    quarter: &str,
) -> Result<Vec<AgencyEvaluation>, AppError> {
    let (from, to) = domain::report::parse_quarter(quarter)?;
    let (start, end) = domain::time::local_days(from, to)?;
    let now = state.clock.now();
    let path = match root {
        Some(a) => a.path.clone(),
        None => String::new(),
    };
    let agency_ids = agencies::ids_under(conn, &path)?;
    // Per-case indicators over the cases finished in the quarter.
    let cases = repo::finished_cases(conn, &path, start.naive_utc(), end.naive_utc())?;
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let mut events: HashMap<String, Vec<Event>> = HashMap::new();
    for (case_id, at, action, step_due) in repo::step_events(conn, &ids)? {
        events.entry(case_id).or_default().push((at.and_utc(), CaseAction::parse(&action, "action").ok(), step_due.map(|d| d.and_utc())));
    }
    let complained: HashSet<String> = repo::complained_cases(conn, &ids)?.into_iter().collect();
    let mut per_agency: HashMap<&str, Vec<[Score; 5]>> = HashMap::new();
    let mut handled: HashMap<&str, HashSet<String>> = HashMap::new();
    for case in &cases {
        let scores = case_scores(case, events.get(&case.id).map_or(&[][..], Vec::as_slice), complained.contains(&case.id), now);
        per_agency.entry(case.agency_id.as_str()).or_default().push(scores);
        handled.entry(case.agency_id.as_str()).or_default().insert(case.procedure_code.clone());
    }
    // Channel shares and online lateness from the statistics counters.
    let sums = stats::window_sums(conn, Some(&path), Group::AgencyChannel, from, to)?;
    let mut channels: HashMap<String, (i64, i64, i64)> = HashMap::new();
    for (key, s) in &sums {
        let (agency, channel) = key.split_once('|').unwrap_or((key, ""));
        let row = domain::stats::row_from_sums(s);
        let entry = channels.entry(agency.to_owned()).or_default();
        let received = row.received_online + row.received_direct_postal;
        entry.0 += received;
        if channel == Channel::Online.as_str() {
            entry.1 += received;
            entry.2 += row.resolved_late + row.pending_overdue;
        }
    }
    // Feedback handling of the quarter.
    let mut feedback_by_agency: HashMap<String, (usize, usize, usize)> = HashMap::new();
    for item in feedback::submitted_between(conn, &path, start.naive_utc(), end.naive_utc())? {
        let entry = feedback_by_agency.entry(item.agency_id.clone()).or_default();
        entry.0 += 1;
        if crate::app::feedback::handled_on_time(&item, now) {
            entry.1 += 1;
        }
        if crate::app::feedback::prolonged(&item, now) {
            entry.2 += 1;
        }
    }
    let manual_rows: HashMap<String, ManualScoresRow> =
        repo::manual_scores(conn, &path, quarter)?.into_iter().map(|r| (r.agency_id.clone(), r)).collect();
    let thresholds = state.config.evaluation_thresholds;
    let mut out = Vec::with_capacity(agency_ids.len());
    for agency_id in &agency_ids {
        let case_scores = per_agency.get(agency_id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let average = |i: usize| evaluation::average(case_scores.iter().map(|s| s[i]));
        let codes: Vec<String> = handled.get(agency_id.as_str()).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        let published = repo::published(conn, &codes)?.len();
        let procedures = repo::procedures_of(conn, agency_id)?;
        let online_procedures = procedures
            .iter()
            .filter(|(_, level)| matches!(OnlineLevel::parse(level, "online_level"), Ok(OnlineLevel::Full | OnlineLevel::Partial)))
            .count();
        let (cases_total, online_cases, online_late) = channels.get(agency_id).copied().unwrap_or_default();
        let (items, on_time, prolonged) = feedback_by_agency.get(agency_id).copied().unwrap_or_default();
        let n = case_scores.len();
        let computed: [(Option<f64>, String); 9] = [
            (average(0), format!("{n} hồ sơ đã giải quyết trong quý")),
            (average(1), "các bước xử lý theo quy trình".into()),
            (average(2), "số lần yêu cầu bổ sung".into()),
            (average(3), "cơ quan yêu cầu bổ sung".into()),
            (None, "tự đánh giá, thẩm định".into()),
            (
                score_f64(evaluation::publication(codes.len(), published)),
                format!("{published}/{} thủ tục đã giải quyết được công bố", codes.len()),
            ),
            (average(4), "phản ánh về hành vi của cán bộ".into()),
            (
                score_f64(evaluation::feedback_handling(items, on_time, prolonged)),
                format!("{on_time}/{items} phản ánh, kiến nghị đúng hạn; {prolonged} kéo dài"),
            ),
            (
                score_f64(evaluation::online_services(
                    procedures.len(),
                    online_procedures,
                    usize::try_from(cases_total).unwrap_or(0),
                    usize::try_from(online_cases).unwrap_or(0),
                    usize::try_from(online_late).unwrap_or(0),
                )),
                format!(
                    "{online_procedures}/{} thủ tục trực tuyến; {online_cases}/{cases_total} hồ sơ trực tuyến; {online_late} trễ hạn",
                    procedures.len()
                ),
            ),
        ];
        let row = manual_rows.get(agency_id);
        let (own, appraised) = row.map(|r| (manual(&r.self_scores), manual(&r.appraised_scores))).unwrap_or_default();
        let indicators: Vec<Indicator> = computed
            .into_iter()
            .enumerate()
            .map(|(i, (computed, basis))| {
                let number = u8::try_from(i + 1).unwrap_or(0);
                let (self_score, appraised_score) = (own.get(&number).copied(), appraised.get(&number).copied());
                let points = appraised_score.or(self_score).map(f64::from).or(computed);
                Indicator { number, name: NAMES[i], computed, self_score, appraised_score, points, basis }
            })
            .collect();
        let total = (indicators.iter().filter_map(|i| i.points).sum::<f64>() * 100.0).round() / 100.0;
        let class = evaluation::classify(total, thresholds);
        out.push(AgencyEvaluation {
            agency_id: agency_id.clone(),
            agency_name: state.names.agency(conn, agency_id)?,
            quarter: quarter.to_owned(),
            cases_evaluated: n,
            indicators,
            total,
            class,
            rank: 0,
            deduction_reasons: row.and_then(|r| r.deduction_reasons.clone()),
        });
    }
    out.sort_by(|a, b| {
        b.total.total_cmp(&a.total).then_with(|| domain::text::fold(&a.agency_name).cmp(&domain::text::fold(&b.agency_name)))
    });
    let mut rank = 0;
    let mut previous = f64::NAN;
    for (i, evaluation) in out.iter_mut().enumerate() {
        if evaluation.total != previous {
            rank = i + 1;
            previous = evaluation.total;
        }
        evaluation.rank = rank;
    }
    Ok(out)
}

/// Manual scores of an agency for a quarter, checked (`domain::evaluation::manual_scores`).
pub struct ManualScores {
    pub agency_id: String,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// Indicator number → points.
    pub scores: BTreeMap<u8, u8>,
    /// Why points were deducted (appraisal).
    pub deduction_reasons: Option<String>,
}

/// Records the scores as the agency's self-assessment (its administrators) or as the appraisal
/// (supervisors, system administrators), with the audit entry; returns the agency.
///
/// # Errors
/// `not_found` for an agency outside the caller's scope; database errors.
pub fn record_manual_scores(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    manual: ManualScores,
) -> Result<AgencyRow, AppError> {
    let ManualScores { agency_id, quarter, scores, deduction_reasons } = manual;
    let agency = agencies::find(conn, &agency_id)?.ok_or_else(AppError::not_found)?;
    if !principal.covers_path(&agency.path) {
        return Err(AppError::not_found());
    }
    let now = ctx.now();
    let existing = repo::manual_scores(conn, &agency.path, &quarter)?.into_iter().find(|r| r.agency_id == agency.id);
    let mut row = existing.unwrap_or_else(|| ManualScoresRow {
        agency_id: agency.id.clone(),
        quarter: quarter.clone(),
        self_scores: "{}".into(),
        appraised_scores: "{}".into(),
        deduction_reasons: None,
        updated_by: None,
        updated_at: now,
    });
    let text = persistence::stored::write(&scores)?;
    let self_assessed = principal.role == Role::AgencyAdmin;
    if self_assessed {
        row.self_scores = text;
    } else {
        row.appraised_scores = text;
        row.deduction_reasons = deduction_reasons;
    }
    row.updated_by = Some(principal.user_id.clone());
    row.updated_at = now;
    repo::upsert(conn, &row)?;
    crate::auditing::record(
        conn,
        meta,
        crate::auditing::Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: if self_assessed { "evaluation.self_score" } else { "evaluation.appraise" },
            entity_type: "agency_evaluation",
            entity_id: &format!("{}/{quarter}", agency.id),
            before: None,
            after: Some(&scores),
        },
    )?;
    Ok(agency)
}
