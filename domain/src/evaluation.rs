//! The evaluation tool of Circular 01/2018 Chapter III (domain.md §8.1): the per-case
//! indicators 1–4 and 7, scored 2 / 1 / 0 points, where the case's data decides them.

use crate::case::Timeliness;

/// One indicator's score, or why it cannot be decided from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Points(u8),
    /// Not decided yet (the case is not finished, or the data does not say).
    Undecided,
}

fn by_timeliness(timeliness: Option<Timeliness>) -> Score {
    match timeliness {
        Some(Timeliness::Early) => Score::Points(2),
        Some(Timeliness::OnTime) => Score::Points(1),
        Some(Timeliness::Late) => Score::Points(0),
        _ => Score::Undecided,
    }
}

/// Indicator 1: total processing time against the time allowed (shorter 2, equal 1, longer 0),
/// from the finished case's timeliness.
pub fn total_time(finished: Option<Timeliness>) -> Score {
    by_timeliness(finished)
}

/// Indicator 2: each participating body's time against its allowance, from the judgement of
/// every workflow step the case went through: all early 2, none late 1, any late 0.
pub fn step_times(steps: &[Timeliness]) -> Score {
    if steps.is_empty() || steps.iter().any(|t| matches!(t, Timeliness::Within)) {
        return if steps.iter().any(|t| matches!(t, Timeliness::Late | Timeliness::Overdue)) { Score::Points(0) } else { Score::Undecided };
    }
    if steps.iter().any(|t| matches!(t, Timeliness::Late | Timeliness::Overdue)) {
        Score::Points(0)
    } else if steps.iter().all(|t| *t == Timeliness::Early) {
        Score::Points(2)
    } else {
        Score::Points(1)
    }
}

/// A hand-over: when, whether it enters a workflow step, and that step's due instant.
pub type Handover = (chrono::DateTime<chrono::Utc>, bool, Option<chrono::DateTime<chrono::Utc>>);

/// The judgement of every workflow step of a history (indicator 2, form 05): `handovers` are
/// the hand-over events in order as (instant, whether it enters a workflow step, that step's
/// due instant); a step ends with the next hand-over, or is still open at `now`.
pub fn step_judgements(handovers: &[Handover], now: chrono::DateTime<chrono::Utc>) -> Vec<Timeliness> {
    handovers
        .iter()
        .enumerate()
        .filter_map(|(i, (_, enters, due))| {
            let due = due.filter(|_| *enters)?;
            Some(crate::case::step_timeliness(due, handovers.get(i + 1).map(|n| n.0), now))
        })
        .collect()
}

/// Indicator 3: how many times the applicant had to come back to complete the file (0 → 2,
/// 1 → 1, more → 0).
pub fn contacts(supplement_requests: usize) -> Score {
    match supplement_requests {
        0 => Score::Points(2),
        1 => Score::Points(1),
        _ => Score::Points(0),
    }
}

/// Indicator 4: how many bodies the applicant had to deal with to complete the file: none 2,
/// only the one-stop unit 1, more 0. `requesting_agencies` are the distinct agencies that asked
/// for supplements.
pub fn bodies_contacted(requesting_agencies: usize) -> Score {
    match requesting_agencies {
        0 => Score::Points(2),
        1 => Score::Points(1),
        _ => Score::Points(0),
    }
}

/// Indicator 7: conduct of the officials: a complaint about misconduct 0; otherwise early 2 and
/// on time 1 (a late case without complaint scores 1 as well: lateness is indicator 1's matter).
pub fn conduct(finished: Option<Timeliness>, misconduct_complaints: usize) -> Score {
    if misconduct_complaints > 0 {
        return Score::Points(0);
    }
    match finished {
        Some(Timeliness::Early) => Score::Points(2),
        Some(Timeliness::OnTime | Timeliness::Late) => Score::Points(1),
        _ => Score::Undecided,
    }
}

crate::role::wire_enum! {
    /// The class of an agency's quarterly total (domain.md §8.2).
    AgencyClass {
        Excellent = "xuat_sac", "Xuất sắc", "Excellent";
        Good = "tot", "Tốt", "Good";
        Fair = "kha", "Khá", "Fair";
        Average = "trung_binh", "Trung bình", "Average";
        Weak = "yeu", "Yếu", "Weak";
    }
}

/// The class of `total` (out of 18) with the lowest totals of the first four classes, in
/// descending order. Bands are closed below, so every total has a class (the reference
/// implementation's gap at exactly 15 is not reproduced).
pub fn classify(total: f64, thresholds: [f64; 4]) -> AgencyClass {
    let classes = [AgencyClass::Excellent, AgencyClass::Good, AgencyClass::Fair, AgencyClass::Average];
    thresholds.iter().zip(classes).find(|(lowest, _)| total >= **lowest).map_or(AgencyClass::Weak, |(_, class)| class)
}

/// The average points of the cases whose indicator is decided (`None` when none is).
pub fn average(scores: impl IntoIterator<Item = Score>) -> Option<f64> {
    let (sum, n) = scores.into_iter().fold((0_u32, 0_u32), |(sum, n), s| match s {
        Score::Points(p) => (sum + u32::from(p), n + 1),
        Score::Undecided => (sum, n),
    });
    (n > 0).then(|| f64::from(sum) / f64::from(n))
}

/// Indicator 6 (publication) as far as the data says: 1 when every procedure the agency
/// handled is published electronically, else 0. Two points also need the posting at the
/// premises, which only an assessor can attest (self or appraised score).
pub fn publication(handled: usize, published: usize) -> Score {
    if handled == 0 {
        Score::Undecided
    } else if published >= handled {
        Score::Points(1)
    } else {
        Score::Points(0)
    }
}

/// Indicator 8 (handling of feedback): none, or all on time and none prolonged 2; at least
/// 90 % on time and none prolonged 1; otherwise 0. `prolonged` are items still unanswered past
/// their deadline.
pub fn feedback_handling(items: usize, on_time: usize, prolonged: usize) -> Score {
    if items == 0 || (on_time >= items && prolonged == 0) {
        return Score::Points(2);
    }
    if prolonged == 0 && on_time * 10 >= items * 9 { Score::Points(1) } else { Score::Points(0) }
}

/// Indicator 9 (online services): at least 20 % of the procedures at level 3/4 (partial or
/// full online), at least 30 % of the cases online and no online case late or overdue 2;
/// some procedure at level 3/4, 15 % to 30 % online and none late 1; otherwise 0.
pub fn online_services(procedures: usize, online_procedures: usize, cases: usize, online_cases: usize, online_late: usize) -> Score {
    if procedures == 0 && cases == 0 {
        return Score::Undecided;
    }
    let share = |part: usize, whole: usize| if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
    let (procedure_share, case_share) = (share(online_procedures, procedures), share(online_cases, cases));
    if online_late > 0 || online_procedures == 0 {
        return Score::Points(0);
    }
    if procedure_share >= 0.2 && case_share >= 0.3 {
        Score::Points(2)
    } else if case_share >= 0.15 {
        Score::Points(1)
    } else {
        Score::Points(0)
    }
}

/// Manual scores of indicators (the agency's self-assessment or the appraisal): indicator
/// number 1–9 → 0, 1 or 2 points (Circular 01/2018 Chapter III).
///
/// # Errors
/// A [`crate::ValidationError`] on `scores` naming the indicator or the points out of range.
pub fn manual_scores<'a>(
    given: impl IntoIterator<Item = (&'a str, u8)>,
) -> Result<std::collections::BTreeMap<u8, u8>, crate::ValidationError> {
    let mut scores = std::collections::BTreeMap::new();
    for (number, points) in given {
        let n: u8 = number
            .parse()
            .ok()
            .filter(|n| (1..=9).contains(n))
            .ok_or_else(|| crate::ValidationError::new("scores", format!("`{number}` is not an indicator (1–9)")))?;
        if points > 2 {
            return Err(crate::ValidationError::new("scores", format!("indicator {n}: points are 0, 1 or 2")));
        }
        scores.insert(n, points);
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Timeliness::{Early, Late, OnTime, Overdue, Within};

    #[test]
    fn manual_scores_name_indicators_one_to_nine_with_two_points_at_most() {
        assert_eq!(manual_scores([("5", 2), ("6", 0)]).map(|s| s.into_iter().collect::<Vec<_>>()), Ok(vec![(5, 2), (6, 0)]));
        assert!(manual_scores([("10", 1)]).is_err());
        assert!(manual_scores([("x", 1)]).is_err());
        assert!(manual_scores([("3", 3)]).is_err());
    }

    #[test]
    fn agency_indicators_and_classes() {
        let t = [15.0, 12.0, 9.0, 6.0];
        assert_eq!(classify(18.0, t), AgencyClass::Excellent);
        assert_eq!(classify(15.0, t), AgencyClass::Excellent, "no gap at exactly 15");
        assert_eq!(classify(14.99, t), AgencyClass::Good);
        assert_eq!(classify(12.0, t), AgencyClass::Good);
        assert_eq!(classify(9.0, t), AgencyClass::Fair);
        assert_eq!(classify(6.0, t), AgencyClass::Average);
        assert_eq!(classify(5.9, t), AgencyClass::Weak);
        assert_eq!(average([Score::Points(2), Score::Points(1), Score::Undecided]), Some(1.5));
        assert_eq!(average([Score::Undecided]), None);
        assert_eq!(publication(3, 3), Score::Points(1));
        assert_eq!(publication(3, 2), Score::Points(0));
        assert_eq!(feedback_handling(0, 0, 0), Score::Points(2));
        assert_eq!(feedback_handling(10, 10, 0), Score::Points(2));
        assert_eq!(feedback_handling(10, 9, 0), Score::Points(1));
        assert_eq!(feedback_handling(10, 9, 1), Score::Points(0));
        assert_eq!(feedback_handling(10, 8, 0), Score::Points(0));
        assert_eq!(online_services(10, 3, 100, 40, 0), Score::Points(2));
        assert_eq!(online_services(10, 1, 100, 40, 0), Score::Points(1));
        assert_eq!(online_services(10, 3, 100, 20, 0), Score::Points(1));
        assert_eq!(online_services(10, 3, 100, 40, 1), Score::Points(0));
        assert_eq!(online_services(10, 0, 100, 40, 0), Score::Points(0));
        assert_eq!(online_services(10, 3, 100, 10, 0), Score::Points(0));
    }

    #[test]
    fn indicators_score_hand_built_cases() {
        assert_eq!(total_time(Some(Early)), Score::Points(2));
        assert_eq!(total_time(Some(OnTime)), Score::Points(1));
        assert_eq!(total_time(Some(Late)), Score::Points(0));
        assert_eq!(total_time(Some(Within)), Score::Undecided);
        assert_eq!(total_time(None), Score::Undecided);
        assert_eq!(step_times(&[Early, Early]), Score::Points(2));
        assert_eq!(step_times(&[Early, OnTime]), Score::Points(1));
        assert_eq!(step_times(&[Early, Late]), Score::Points(0));
        assert_eq!(step_times(&[Early, Within]), Score::Undecided);
        assert_eq!(step_times(&[Late, Within]), Score::Points(0), "a late step decides at once");
        assert_eq!(step_times(&[Overdue]), Score::Points(0));
        assert_eq!(step_times(&[]), Score::Undecided);
        assert_eq!((contacts(0), contacts(1), contacts(2)), (Score::Points(2), Score::Points(1), Score::Points(0)));
        assert_eq!((bodies_contacted(0), bodies_contacted(1), bodies_contacted(3)), (Score::Points(2), Score::Points(1), Score::Points(0)));
        assert_eq!(conduct(Some(Early), 0), Score::Points(2));
        assert_eq!(conduct(Some(OnTime), 0), Score::Points(1));
        assert_eq!(conduct(Some(Early), 1), Score::Points(0));
        assert_eq!(conduct(None, 0), Score::Undecided);
    }
}
