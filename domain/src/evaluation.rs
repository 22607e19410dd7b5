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

#[cfg(test)]
mod tests {
    use super::*;
    use Timeliness::{Early, Late, OnTime, Overdue, Within};

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
