//! The shapes of the JSON that rows keep in text columns (a case's applicant and declared
//! documents, a procedure version's content and workflow steps, a feedback sender's contact).
//!
//! Architecture invariant: these types are the storage format, and only that. They derive
//! serde alone; the wire types of `api` convert to and from them, so renaming an API field never
//! changes what rows hold, and rows written before keep reading.

pub mod case;
pub mod feedback;
pub mod job;
pub mod procedure;
pub mod report;

/// Reads stored JSON text as `T`.
///
/// # Errors
/// [`crate::RepoError::Other`] when the text does not hold a `T`.
pub fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, crate::RepoError> {
    serde_json::from_str(text).map_err(|e| crate::RepoError::Other(crate::DbError::DeserializationError(Box::new(e))))
}

/// Writes `value` as stored JSON text.
///
/// # Errors
/// [`crate::RepoError::Other`] when serde cannot write it (never for these types).
pub fn write<T: serde::Serialize>(value: &T) -> Result<String, crate::RepoError> {
    serde_json::to_string(value).map_err(|e| crate::RepoError::Other(crate::DbError::SerializationError(Box::new(e))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The stored types read what the code before them wrote: JSON serialised from the wire types
    //! (applicant, documents, procedure content) and event details built as a sorted JSON map.

    use domain::case::{CaseAction, EventAction};

    use super::case::{Assignment, DeclaredDocument, EventDetails, Party};
    use super::procedure::{ProcedureContent, TimeUnit};
    use super::read;

    #[test]
    fn rows_written_before_the_stored_types_still_read() {
        let applicant: Party = read(
            r#"{"kind":"citizen","full_name":"Nông Văn Bình","id_type":"cccd","id_number":"004099012345","phone":"0912345678","email":null,"address":"Tổ 1"}"#,
        )
        .unwrap();
        assert_eq!((applicant.full_name.as_str(), applicant.email), ("Nông Văn Bình", None));
        let documents: Vec<DeclaredDocument> = read(r#"[{"requirement_code":"TK01","name":"Tờ khai","originals":1,"copies":0}]"#).unwrap();
        assert_eq!(documents[0].requirement_code, "TK01");

        let request = CaseAction::RequestSupplement.into();
        let stored = r#"{"deadline_days":5,"items":["Giấy chứng sinh"],"supplement_due_at":"2027-01-05T03:00:00Z"}"#;
        let EventDetails::RequestSupplement(details) = EventDetails::of_column(request, Some(stored)) else {
            panic!("a supplement request")
        };
        assert_eq!(details.items, ["Giấy chứng sinh"]);
        assert_eq!(details.deadline_days, Some(5));
        assert_eq!(details.supplement_due_at.map(|t| t.to_rfc3339()), Some("2027-01-05T03:00:00+00:00".to_owned()));
        let written = EventDetails::RequestSupplement(details).to_column().unwrap().unwrap();
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(json(&written), json(stored), "written back as it was stored");
        // Earlier code stored every parameter the request carried, whatever the action.
        let resolved = EventDetails::of_column(
            CaseAction::Resolve.into(),
            Some(r#"{"decision_number":"12/QĐ","items":["x"],"signer":"Chủ tịch","summary":"Cấp"}"#),
        );
        let EventDetails::Resolve(decision) = resolved else { panic!("a decision") };
        assert_eq!(decision.decision_number.as_deref(), Some("12/QĐ"));
        assert_eq!(EventDetails::of_column(CaseAction::Accept.into(), Some(r#"{"items":["x"]}"#)), EventDetails::None);
        assert_eq!(EventDetails::of_column(EventAction::Submit, None), EventDetails::None);
        assert_eq!(
            EventDetails::of_column(CaseAction::Forward.into(), None),
            EventDetails::Forward(Assignment::default()),
            "absent details read as empty ones"
        );
        assert_eq!(EventDetails::Forward(Assignment::default()).to_column().unwrap(), None, "empty details store none");

        let content: ProcedureContent = read(
            r#"{"national_code":"1.001193","name":"Đăng ký khai sinh","sector":"Tư pháp","field":{"code":"G09-HT","name":"Hộ tịch"},"levels":["commune"],"agency_ids":["a"],"online_level":"full","channels":["counter","online","postal"],"processing_time":{"value":5,"unit":"working_day"},"online_processing_time":null,"cutoff_time":"15:00","fees":[{"code":null,"amount":8000,"description":"Lệ phí"}],"required_documents":[{"code":"TK01","name":"Tờ khai","originals":1,"copies":0,"mandatory":true}],"result":{"code":"KQ01","name":"Giấy khai sinh","has_result":true},"legal_basis":[],"form_schema":null,"effective_from":"2026-01-01"}"#,
        )
        .unwrap();
        assert_eq!(content.processing_time.unit, TimeUnit::WorkingDay);
        assert_eq!(content.required_documents.len(), 1);
        // Versions written before `channels` existed read with none (normalised on the next edit).
        let older: ProcedureContent = read(
            r#"{"national_code":null,"name":"X","sector":"Y","field":{"code":"F","name":"G"},"levels":["commune"],"agency_ids":[],"online_level":"info","processing_time":{"value":1,"unit":"calendar_day"},"online_processing_time":null,"cutoff_time":null,"result":{"code":null,"name":null,"has_result":false},"form_schema":null,"effective_from":null}"#,
        )
        .unwrap();
        assert!(older.channels.is_empty() && older.fees.is_empty() && older.legal_basis.is_empty());
    }
}
