//! Case synchronisation with the national public service portal (DVCQG), domain.md §10.
//!
//! Callers hand a neutral [`CaseSync`] (English names, UTC instants); this module turns it into
//! the portal's `HoSo` and `TienDo` payloads (Vietnamese field names, `yyyyMMddHHmmss` in
//! Asia/Ho_Chi_Minh, national status codes through a configurable mapping) and calls
//! `DongBoHoSoMC` (create; update when the portal says the case exists already) and
//! `CapNhatTienDoHoSoMC` (progress, in chunks of 10) through the adapter transport.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::adapter::{AdapterClient, AdapterError, Answer};

/// Progress entries per `CapNhatTienDoHoSoMC` call.
pub const PROGRESS_CHUNK: usize = 10;

/// The applicant (chủ hồ sơ) as the portal needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// `citizen`, `enterprise`, `agency` or `organisation`.
    pub kind: String,
    pub full_name: String,
    /// `cccd`, `cmnd`, `tax_code`, `passport` or `other`.
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// A document handed in with the case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedDocument {
    /// The procedure's requirement code (MaThanhPhanHoSo).
    pub requirement_code: String,
    pub name: String,
}

/// The case as it is after a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSnapshot {
    pub code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub field_code: Option<String>,
    pub field_name: Option<String>,
    /// `online`, `counter` or `postal`.
    pub channel: String,
    pub applicant: Party,
    pub summary: String,
    /// The national status code, 1–10 (domain.md §5.1).
    pub status_code: u8,
    pub submitted_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub refused_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub agency_code: String,
    pub agency_name: String,
    /// The result goes back by post.
    pub return_by_post: bool,
    pub documents: Vec<SubmittedDocument>,
    pub note: Option<String>,
}

/// One step of the case's processing (an event).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEntry {
    /// Who acted (at most 50 characters are sent).
    pub actor_name: String,
    pub actor_title: Option<String>,
    pub department: Option<String>,
    pub at: DateTime<Utc>,
    /// What was done.
    pub content: String,
    /// The national status code after the step.
    pub status_code: u8,
    /// When the step began and was due.
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// One outbox message to the portal: the case after a change and the steps it added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSync {
    pub case: CaseSnapshot,
    pub progress: Vec<ProgressEntry>,
    /// The case's first message: create it (the portal may still say it exists).
    pub first: bool,
}

/// Where the portal's services live below the adapter URL and how our codes map to its own.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Path of `DongBoHoSoMC`, `CapNhatTienDoHoSoMC` and `TraCuuHoSo` (default `/integration`).
    pub integration_path: String,
    /// The portal's status code for each of ours (index 0 is our code 1); default identity.
    pub status_map: [u8; 10],
    /// At most this many cases in one `DongBoHoSoMC` call (default 20; 1 sends each alone).
    pub batch: usize,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self { integration_path: "/integration".into(), status_map: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], batch: 20 }
    }
}

impl PortalSettings {
    /// Parses `MOTCUA_NATIONAL_PORTAL_STATUS_MAP`: ten comma-separated codes, ours 1–10 in order.
    ///
    /// # Errors
    /// A message when the list is not ten numbers from 1 to 99.
    pub fn parse_status_map(value: &str) -> Result<[u8; 10], String> {
        let codes: Vec<u8> = value
            .split(',')
            .map(|v| v.trim().parse::<u8>().map_err(|_| format!("`{v}` is not a status code")))
            .collect::<Result<_, _>>()?;
        let map: [u8; 10] = codes.try_into().map_err(|_| "expected ten codes, for our statuses 1 to 10 in order".to_owned())?;
        if map.iter().any(|&c| c == 0 || c > 99) {
            return Err("codes run from 1 to 99".into());
        }
        Ok(map)
    }

    /// The portal's code for our national status code.
    pub fn status(&self, ours: u8) -> u8 {
        self.status_map.get(usize::from(ours).saturating_sub(1)).copied().unwrap_or(ours)
    }
}

/// A date as the portal writes it: `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.
pub fn portal_date(at: DateTime<Utc>) -> String {
    // Written out rather than through a format string, which is parsed again on every call
    // (a dispatcher formats several dates per message).
    let local = at.with_timezone(&domain::time::VN);
    format!("{:04}{:02}{:02}{:02}{:02}{:02}", local.year(), local.month(), local.day(), local.hour(), local.minute(), local.second())
}

fn opt_date(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::String(String::new()), |a| Value::String(portal_date(a)))
}

fn subject_kind(kind: &str) -> &'static str {
    match kind {
        "enterprise" => "2",
        "agency" => "3",
        "organisation" => "4",
        _ => "1",
    }
}

/// Channel (KenhThucHien): 1 direct, 2 online, 3 post.
fn channel_code(channel: &str) -> &'static str {
    match channel {
        "online" => "2",
        "postal" => "3",
        _ => "1",
    }
}

/// The id documents of the applicant (DinhDanhCHS): only the national id kinds, never a
/// placeholder (domain.md §10.2).
fn identities(party: &Party) -> Value {
    let kind = match party.id_type.as_str() {
        "cccd" if party.id_number.len() == 12 => "1",
        "cmnd" if party.id_number.len() == 9 => "2",
        _ => return json!([]),
    };
    json!([{ "LoaiDinhDanh": kind, "SoDinhDanh": party.id_number }])
}

/// The `HoSo` payload of a case (domain.md §10.2).
pub fn dossier(case: &CaseSnapshot, settings: &PortalSettings) -> Value {
    let party = &case.applicant;
    json!({
        "MaHoSo": case.code,
        "MaTTHC": case.procedure_code,
        "TenTTHC": case.procedure_name,
        "MaLinhVuc": case.field_code.clone().unwrap_or_default(),
        "TenLinhVuc": case.field_name.clone().unwrap_or_default(),
        "KenhThucHien": channel_code(&case.channel),
        "ChuHoSo": party.full_name,
        "LoaiDoiTuong": subject_kind(&party.kind),
        "SoGiayToChuHoSo": party.id_number,
        "Email": party.email.clone().unwrap_or_default(),
        "SoDienThoai": party.phone.clone().unwrap_or_default(),
        "DiaChi": party.address.clone().unwrap_or_default(),
        "TrichYeuHoSo": case.summary,
        "NgayNopHoSo": portal_date(case.submitted_at),
        "NgayTiepNhan": opt_date(case.received_at),
        "NgayHenTra": opt_date(case.due_at),
        "TrangThaiHoSo": settings.status(case.status_code).to_string(),
        "NgayTra": opt_date(case.returned_at),
        "HinhThuc": if case.return_by_post { "1" } else { "0" },
        "NgayKetThucXuLy": opt_date(case.finished_at),
        "NgayTuChoi": opt_date(case.refused_at),
        "DonViXuLy": case.agency_name,
        "MaDonViXuLy": case.agency_code,
        "GhiChu": case.note.clone().unwrap_or_default(),
        "DinhDanhCHS": identities(party),
        "TaiLieuNop": case.documents.iter().map(|d| json!({
            "TenTepDinhKem": d.name,
            "MaThanhPhanHoSo": d.requirement_code,
            "IsDeleted": "False",
        })).collect::<Vec<_>>(),
    })
}

/// A `TienDo` progress entry.
pub fn progress(code: &str, entry: &ProgressEntry, settings: &PortalSettings) -> Value {
    json!({
        "MaHoSo": code,
        "NguoiXuLy": entry.actor_name.chars().take(50).collect::<String>(),
        "ChucDanh": entry.actor_title.clone().unwrap_or_default(),
        "ThoiDiemXuLy": portal_date(entry.at),
        "PhongBanXuLy": entry.department.clone().unwrap_or_default(),
        "NoiDungXuLy": entry.content,
        "TrangThai": settings.status(entry.status_code).to_string(),
        "NgayBatDau": opt_date(entry.started_at),
        "NgayKetThucTheoQuyDinh": opt_date(entry.due_at),
    })
}

/// What the portal says of a case (`TraCuuHoSo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalView {
    /// The portal's status code.
    pub status_code: Option<u8>,
    /// The portal's due date string (`yyyyMMddHHmmss`), as given.
    pub due: Option<String>,
}

/// How the portal's view of a case differs from ours (reconciliation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `missing` (the portal does not know the case), `status` or `due_date`.
    pub kind: &'static str,
    /// Our status, as the portal's code.
    pub ours_status: u8,
    /// Our due date as the portal writes dates.
    pub ours_due: Option<String>,
}

/// Compares the portal's `view` of a case with our national status code and due date.
pub fn difference(settings: &PortalSettings, view: Option<&PortalView>, status_code: u8, due: Option<DateTime<Utc>>) -> Option<Difference> {
    let ours_status = settings.status(status_code);
    let ours_due = due.map(portal_date);
    let kind = match view {
        None => "missing",
        Some(v) if v.status_code != Some(ours_status) => "status",
        Some(v) if v.due.is_some() && v.due != ours_due => "due_date",
        Some(_) => return None,
    };
    Some(Difference { kind, ours_status, ours_due })
}

/// A case's progress entries with its code, as the progress calls take them.
fn entries_of(sync: &CaseSync) -> Vec<(&str, &ProgressEntry)> {
    sync.progress.iter().map(|e| (sync.case.code.as_str(), e)).collect()
}

/// The national portal, through the adapter.
pub struct PortalClient {
    adapter: AdapterClient,
    settings: PortalSettings,
}

/// Whether an answer says the case exists already ("đã tồn tại").
fn already_exists(message: &str) -> bool {
    let lower = message.to_lowercase();
    lower.contains("đã tồn tại") || lower.contains("da ton tai") || lower.contains("already exist")
}

impl PortalClient {
    /// A client over `adapter` with `settings`.
    pub fn new(adapter: AdapterClient, settings: PortalSettings) -> Self {
        Self { adapter, settings }
    }

    /// The settings.
    pub fn settings(&self) -> &PortalSettings {
        &self.settings
    }

    /// Sends a case and its new progress: `DongBoHoSoMC` (create on the first message,
    /// update otherwise or when the portal says the case exists), then `CapNhatTienDoHoSoMC`
    /// in chunks of [`PROGRESS_CHUNK`].
    ///
    /// # Errors
    /// See [`AdapterError`].
    pub async fn sync(&self, sync: &CaseSync) -> Result<(), AdapterError> {
        if sync.first {
            // "Exists already" comes back with error_code 0, 3 or -3 (TD.DichVuCongApi).
            match self.dossiers(std::slice::from_ref(&sync.case), false).await {
                Ok(answer) if already_exists(&answer.message) => {
                    self.dossiers(std::slice::from_ref(&sync.case), true).await?;
                }
                Ok(answer) if answer.code == 0 => {}
                Ok(answer) => return Err(AdapterError::Rejected { code: answer.code, message: answer.message }),
                Err(e) => return Err(e),
            }
        } else {
            self.dossiers(std::slice::from_ref(&sync.case), true).await?;
        }
        self.send_progress(&entries_of(sync)).await
    }

    /// Sends several cases (one change each) in as few calls as the protocol allows: one
    /// `DongBoHoSoMC` for the new cases and one for the others (the data is a list), then all
    /// their progress entries in chunks of [`PROGRESS_CHUNK`]. An answer about the content (a
    /// rejection, an unreadable answer, "already exists" for a list) is sorted out case by case
    /// with [`Self::sync`]; a failure of the transport (time-out, 5xx, HTML, refused login)
    /// fails every case of the call. Returns one outcome per case, in order.
    pub async fn sync_many(&self, syncs: &[CaseSync]) -> Vec<Result<(), AdapterError>> {
        let mut outcomes: Vec<Option<Result<(), AdapterError>>> = syncs.iter().map(|_| None).collect();
        let mut one_by_one = Vec::new();
        for first in [true, false] {
            let group: Vec<usize> = (0..syncs.len()).filter(|&i| syncs[i].first == first).collect();
            if group.len() < 2 {
                one_by_one.extend(group);
                continue;
            }
            let cases: Vec<CaseSnapshot> = group.iter().map(|&i| syncs[i].case.clone()).collect();
            match self.dossiers(&cases, !first).await {
                Ok(answer) if answer.code == 0 && !already_exists(&answer.message) => {}
                Ok(_) | Err(AdapterError::Rejected { .. } | AdapterError::Protocol(_)) => one_by_one.extend(group),
                Err(e) => group.iter().for_each(|&i| outcomes[i] = Some(Err(e.clone()))),
            }
        }
        // Progress of the cases whose dossier went through, a case's entries in one call when
        // they fit.
        let mut chunk: Vec<usize> = Vec::new();
        let mut entries = 0;
        let through: Vec<usize> = (0..syncs.len()).filter(|i| outcomes[*i].is_none() && !one_by_one.contains(i)).collect();
        for i in through {
            let count = syncs[i].progress.len();
            if entries + count > PROGRESS_CHUNK && !chunk.is_empty() {
                self.progress_of(syncs, &std::mem::take(&mut chunk), &mut outcomes).await;
                entries = 0;
            }
            chunk.push(i);
            entries += count;
        }
        if !chunk.is_empty() {
            self.progress_of(syncs, &chunk, &mut outcomes).await;
        }
        for i in one_by_one {
            outcomes[i] = Some(self.sync(&syncs[i]).await);
        }
        outcomes.into_iter().map(|o| o.unwrap_or(Ok(()))).collect()
    }

    /// The progress of the cases `chunk` (whose dossiers went through) in calls of at most
    /// [`PROGRESS_CHUNK`] entries; a rejected call is retried case by case.
    async fn progress_of(&self, syncs: &[CaseSync], chunk: &[usize], outcomes: &mut [Option<Result<(), AdapterError>>]) {
        let entries: Vec<(&str, &ProgressEntry)> = chunk.iter().flat_map(|&i| entries_of(&syncs[i])).collect();
        match self.send_progress(&entries).await {
            Err(AdapterError::Rejected { .. } | AdapterError::Protocol(_)) if chunk.len() > 1 => {
                for &i in chunk {
                    outcomes[i] = Some(self.send_progress(&entries_of(&syncs[i])).await);
                }
            }
            result => chunk.iter().for_each(|&i| outcomes[i] = Some(result.clone())),
        }
    }

    /// One `DongBoHoSoMC` call with `cases` (create, or update when `updating`); a create's
    /// "already exists" (error_code 0, 3 or -3) comes back as an answer.
    async fn dossiers(&self, cases: &[CaseSnapshot], updating: bool) -> Result<Answer, AdapterError> {
        let mut p = Map::new();
        p.insert("isUpdating".into(), Value::String(if updating { "True" } else { "False" }.into()));
        p.insert("data".into(), Value::Array(cases.iter().map(|c| dossier(c, &self.settings)).collect()));
        let also_ok: &[i64] = if updating { &[] } else { &[3, -3] };
        self.adapter.call_answer(&self.settings.integration_path, "DongBoHoSoMC", p, also_ok).await
    }

    /// These (case code, entry) pairs in `CapNhatTienDoHoSoMC` calls of [`PROGRESS_CHUNK`],
    /// stopping at the first failure.
    async fn send_progress(&self, entries: &[(&str, &ProgressEntry)]) -> Result<(), AdapterError> {
        for part in entries.chunks(PROGRESS_CHUNK) {
            let mut p = Map::new();
            p.insert("data".into(), Value::Array(part.iter().map(|(code, e)| progress(code, e, &self.settings)).collect()));
            self.adapter.call_answer(&self.settings.integration_path, "CapNhatTienDoHoSoMC", p, &[]).await?;
        }
        Ok(())
    }

    /// The portal's view of a case; `None` when it does not know the case.
    ///
    /// # Errors
    /// See [`AdapterError`].
    pub async fn lookup(&self, code: &str) -> Result<Option<PortalView>, AdapterError> {
        let mut p = Map::new();
        p.insert("MaHoSo".into(), Value::String(code.to_owned()));
        let result = self.adapter.call(&self.settings.integration_path.clone(), "TraCuuHoSo", p).await?;
        let record = match &result {
            Value::Array(items) => items.first().cloned(),
            Value::Object(_) => Some(result.clone()),
            _ => None,
        };
        let Some(record) = record else { return Ok(None) };
        let text = |name: &str| match record.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Ok(Some(PortalView { status_code: text("TrangThaiHoSo").and_then(|s| s.trim().parse().ok()), due: text("NgayHenTra") }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_are_written_in_vietnam_time() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 17, 30, 5).single().unwrap_or_default();
        assert_eq!(portal_date(at), "20261129003005");
    }

    #[test]
    fn the_status_map_is_ten_codes() {
        assert_eq!(PortalSettings::parse_status_map("1,2,3,4,5,6,7,8,9,10"), Ok([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        assert!(PortalSettings::parse_status_map("1,2,3").is_err());
        assert!(PortalSettings::parse_status_map("1,2,3,4,5,6,7,8,9,x").is_err());
        assert!(PortalSettings::parse_status_map("0,2,3,4,5,6,7,8,9,10").is_err());
        let settings = PortalSettings { status_map: [1, 2, 3, 4, 5, 6, 7, 8, 11, 12], ..PortalSettings::default() };
        let case = CaseSnapshot { status_code: 9, ..CaseSnapshot::default() };
        assert_eq!(dossier(&case, &settings)["TrangThaiHoSo"], "11");
    }

    #[test]
    fn the_applicants_identity_is_sent_only_when_it_is_a_national_id() {
        let mut party = Party { id_type: "cccd".into(), id_number: "004099012345".into(), ..Party::default() };
        assert_eq!(identities(&party), json!([{"LoaiDinhDanh": "1", "SoDinhDanh": "004099012345"}]));
        party.id_type = "passport".into();
        assert_eq!(identities(&party), json!([]), "no placeholder (domain.md §10.2)");
        assert!(already_exists("Hồ sơ đã tồn tại trên hệ thống"));
        assert!(!already_exists("Thêm mới thành công"));
    }
}
