//! Case synchronisation with the national public service portal (DVCQG), domain.md §10.
//!
//! Callers hand a neutral [`CaseSync`] (English names, UTC instants); this module turns it into
//! the portal's `HoSo` and `TienDo` payloads (Vietnamese field names, `yyyyMMddHHmmss` in
//! Asia/Ho_Chi_Minh, national status codes through a configurable mapping) and calls
//! `DongBoHoSoMC` (create; update when the portal says the case exists already) and
//! `CapNhatTienDoHoSoMC` (progress, in chunks of 10) through the adapter transport.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// The digits of a date as the portal writes it: `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.
fn date_digits(at: DateTime<Utc>) -> [u8; 14] {
    let local = at.with_timezone(&domain::time::VN);
    let mut out = [b'0'; 14];
    let mut put = |end: usize, width: usize, mut value: u32| {
        for i in (end - width..end).rev() {
            // A digit (value % 10 < 10) fits a byte.
            out[i] = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    };
    put(4, 4, u32::try_from(local.year()).unwrap_or(0));
    put(6, 2, local.month());
    put(8, 2, local.day());
    put(10, 2, local.hour());
    put(12, 2, local.minute());
    put(14, 2, local.second());
    out
}

/// A date as the portal writes it: `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.
pub fn portal_date(at: DateTime<Utc>) -> String {
    String::from_utf8_lossy(&date_digits(at)).into_owned()
}

/// A date field of a payload: [`portal_date`], or "" when there is none; written straight into
/// the body.
struct PortalDate(Option<DateTime<Utc>>);

impl Serialize for PortalDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(at) => serializer.serialize_str(std::str::from_utf8(&date_digits(at)).unwrap_or_default()),
            None => serializer.serialize_str(""),
        }
    }
}

/// A status code of a payload, which the portal takes as a string ("1" to "10").
struct Code(u8);

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
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

/// An id document of the applicant (DinhDanhCHS).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Identity<'a> {
    loai_dinh_danh: &'static str,
    so_dinh_danh: &'a str,
}

/// The id documents of the applicant (DinhDanhCHS): only the national id kinds, never a
/// placeholder (domain.md §10.2).
fn identities(party: &Party) -> Option<Identity<'_>> {
    let kind = match party.id_type.as_str() {
        "cccd" if party.id_number.len() == 12 => "1",
        "cmnd" if party.id_number.len() == 9 => "2",
        _ => return None,
    };
    Some(Identity { loai_dinh_danh: kind, so_dinh_danh: &party.id_number })
}

/// A document handed in (TaiLieuNop).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attachment<'a> {
    ten_tep_dinh_kem: &'a str,
    ma_thanh_phan_ho_so: &'a str,
    is_deleted: &'static str,
}

/// The `HoSo` payload of a case (domain.md §10.2), borrowing from the case: serialised straight
/// into the request body, without a JSON tree of its own (a dispatcher writes thousands a second).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dossier<'a> {
    ma_ho_so: &'a str,
    #[serde(rename = "MaTTHC")]
    ma_tthc: &'a str,
    #[serde(rename = "TenTTHC")]
    ten_tthc: &'a str,
    ma_linh_vuc: &'a str,
    ten_linh_vuc: &'a str,
    kenh_thuc_hien: &'static str,
    chu_ho_so: &'a str,
    loai_doi_tuong: &'static str,
    so_giay_to_chu_ho_so: &'a str,
    email: &'a str,
    so_dien_thoai: &'a str,
    dia_chi: &'a str,
    trich_yeu_ho_so: &'a str,
    ngay_nop_ho_so: PortalDate,
    ngay_tiep_nhan: PortalDate,
    ngay_hen_tra: PortalDate,
    trang_thai_ho_so: Code,
    ngay_tra: PortalDate,
    hinh_thuc: &'static str,
    ngay_ket_thuc_xu_ly: PortalDate,
    ngay_tu_choi: PortalDate,
    don_vi_xu_ly: &'a str,
    ma_don_vi_xu_ly: &'a str,
    ghi_chu: &'a str,
    /// A list on the wire: empty, or the one national id.
    #[serde(rename = "DinhDanhCHS", serialize_with = "as_list")]
    dinh_danh_chs: Option<Identity<'a>>,
    tai_lieu_nop: Vec<Attachment<'a>>,
}

fn as_list<S: serde::Serializer>(identity: &Option<Identity<'_>>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(identity.iter())
}

/// The `HoSo` payload of a case (domain.md §10.2).
pub fn dossier<'a>(case: &'a CaseSnapshot, settings: &PortalSettings) -> Dossier<'a> {
    let party = &case.applicant;
    let text = |value: &'a Option<String>| value.as_deref().unwrap_or_default();
    Dossier {
        ma_ho_so: &case.code,
        ma_tthc: &case.procedure_code,
        ten_tthc: &case.procedure_name,
        ma_linh_vuc: text(&case.field_code),
        ten_linh_vuc: text(&case.field_name),
        kenh_thuc_hien: channel_code(&case.channel),
        chu_ho_so: &party.full_name,
        loai_doi_tuong: subject_kind(&party.kind),
        so_giay_to_chu_ho_so: &party.id_number,
        email: text(&party.email),
        so_dien_thoai: text(&party.phone),
        dia_chi: text(&party.address),
        trich_yeu_ho_so: &case.summary,
        ngay_nop_ho_so: PortalDate(Some(case.submitted_at)),
        ngay_tiep_nhan: PortalDate(case.received_at),
        ngay_hen_tra: PortalDate(case.due_at),
        trang_thai_ho_so: Code(settings.status(case.status_code)),
        ngay_tra: PortalDate(case.returned_at),
        hinh_thuc: if case.return_by_post { "1" } else { "0" },
        ngay_ket_thuc_xu_ly: PortalDate(case.finished_at),
        ngay_tu_choi: PortalDate(case.refused_at),
        don_vi_xu_ly: &case.agency_name,
        ma_don_vi_xu_ly: &case.agency_code,
        ghi_chu: text(&case.note),
        dinh_danh_chs: identities(party),
        tai_lieu_nop: case
            .documents
            .iter()
            .map(|d| Attachment { ten_tep_dinh_kem: &d.name, ma_thanh_phan_ho_so: &d.requirement_code, is_deleted: "False" })
            .collect(),
    }
}

/// A `TienDo` progress entry (domain.md §10.2), borrowing from the entry.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Progress<'a> {
    ma_ho_so: &'a str,
    nguoi_xu_ly: &'a str,
    chuc_danh: &'a str,
    thoi_diem_xu_ly: PortalDate,
    phong_ban_xu_ly: &'a str,
    noi_dung_xu_ly: &'a str,
    trang_thai: Code,
    ngay_bat_dau: PortalDate,
    ngay_ket_thuc_theo_quy_dinh: PortalDate,
}

/// At most the first `n` characters of `text`.
fn first_chars(text: &str, n: usize) -> &str {
    text.char_indices().nth(n).map_or(text, |(end, _)| &text[..end])
}

/// A `TienDo` progress entry.
pub fn progress<'a>(code: &'a str, entry: &'a ProgressEntry, settings: &PortalSettings) -> Progress<'a> {
    Progress {
        ma_ho_so: code,
        nguoi_xu_ly: first_chars(&entry.actor_name, 50),
        chuc_danh: entry.actor_title.as_deref().unwrap_or_default(),
        thoi_diem_xu_ly: PortalDate(Some(entry.at)),
        phong_ban_xu_ly: entry.department.as_deref().unwrap_or_default(),
        noi_dung_xu_ly: &entry.content,
        trang_thai: Code(settings.status(entry.status_code)),
        ngay_bat_dau: PortalDate(entry.started_at),
        ngay_ket_thuc_theo_quy_dinh: PortalDate(entry.due_at),
    }
}

/// The parameters of a `DongBoHoSoMC` call.
#[derive(Serialize)]
struct DossierCall<'a> {
    #[serde(rename = "isUpdating")]
    is_updating: &'static str,
    data: Vec<Dossier<'a>>,
}

/// The parameters of a `CapNhatTienDoHoSoMC` call.
#[derive(Serialize)]
struct ProgressCall<'a> {
    data: Vec<Progress<'a>>,
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
            match self.dossiers(&[&sync.case], false).await {
                Ok(answer) if already_exists(&answer.message) => {
                    self.dossiers(&[&sync.case], true).await?;
                }
                Ok(answer) if answer.code == 0 => {}
                Ok(answer) => return Err(AdapterError::Rejected { code: answer.code, message: answer.message }),
                Err(e) => return Err(e),
            }
        } else {
            self.dossiers(&[&sync.case], true).await?;
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
            let cases: Vec<&CaseSnapshot> = group.iter().map(|&i| &syncs[i].case).collect();
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
    async fn dossiers(&self, cases: &[&CaseSnapshot], updating: bool) -> Result<Answer, AdapterError> {
        let call = DossierCall {
            is_updating: if updating { "True" } else { "False" },
            data: cases.iter().map(|c| dossier(c, &self.settings)).collect(),
        };
        let also_ok: &[i64] = if updating { &[] } else { &[3, -3] };
        self.adapter.call_answer(&self.settings.integration_path, "DongBoHoSoMC", &call, also_ok).await
    }

    /// These (case code, entry) pairs in `CapNhatTienDoHoSoMC` calls of [`PROGRESS_CHUNK`],
    /// stopping at the first failure.
    async fn send_progress(&self, entries: &[(&str, &ProgressEntry)]) -> Result<(), AdapterError> {
        for part in entries.chunks(PROGRESS_CHUNK) {
            let call = ProgressCall { data: part.iter().map(|(code, e)| progress(code, e, &self.settings)).collect() };
            self.adapter.call_answer(&self.settings.integration_path, "CapNhatTienDoHoSoMC", &call, &[]).await?;
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
        let result = self.adapter.call(&self.settings.integration_path.clone(), "TraCuuHoSo", &p).await?;
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
    use serde_json::json;

    #[test]
    fn the_payloads_carry_every_field_of_the_portals_format() {
        let at = |h: u32| Utc.with_ymd_and_hms(2026, 11, 28, h, 0, 0).single().unwrap_or_default();
        let case = CaseSnapshot {
            code: "G22.001-261129-0001".into(),
            procedure_code: "1.001".into(),
            procedure_name: "Chứng thực bản sao".into(),
            field_code: Some("CT".into()),
            field_name: Some("Chứng thực".into()),
            channel: "postal".into(),
            applicant: Party {
                kind: "enterprise".into(),
                full_name: "Nông Văn Bình".into(),
                id_type: "cmnd".into(),
                id_number: "012345678".into(),
                phone: Some("0912345678".into()),
                email: Some("binh@example.vn".into()),
                address: Some("Hòa Chung".into()),
            },
            summary: "Bản sao".into(),
            status_code: 10,
            submitted_at: at(1),
            received_at: Some(at(2)),
            due_at: Some(at(3)),
            finished_at: Some(at(4)),
            refused_at: None,
            returned_at: Some(at(5)),
            agency_code: "G22.001".into(),
            agency_name: "UBND xã".into(),
            return_by_post: true,
            documents: vec![SubmittedDocument { requirement_code: "TK01".into(), name: "Tờ khai".into() }],
            note: None,
        };
        let settings = PortalSettings::default();
        assert_eq!(
            serde_json::to_value(dossier(&case, &settings)).unwrap_or_default(),
            json!({
                "MaHoSo": "G22.001-261129-0001", "MaTTHC": "1.001", "TenTTHC": "Chứng thực bản sao",
                "MaLinhVuc": "CT", "TenLinhVuc": "Chứng thực", "KenhThucHien": "3", "ChuHoSo": "Nông Văn Bình",
                "LoaiDoiTuong": "2", "SoGiayToChuHoSo": "012345678", "Email": "binh@example.vn",
                "SoDienThoai": "0912345678", "DiaChi": "Hòa Chung", "TrichYeuHoSo": "Bản sao",
                "NgayNopHoSo": "20261128080000", "NgayTiepNhan": "20261128090000", "NgayHenTra": "20261128100000",
                "TrangThaiHoSo": "10", "NgayTra": "20261128120000", "HinhThuc": "1",
                "NgayKetThucXuLy": "20261128110000", "NgayTuChoi": "", "DonViXuLy": "UBND xã",
                "MaDonViXuLy": "G22.001", "GhiChu": "",
                "DinhDanhCHS": [{"LoaiDinhDanh": "2", "SoDinhDanh": "012345678"}],
                "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai", "MaThanhPhanHoSo": "TK01", "IsDeleted": "False"}],
            })
        );
        let entry = ProgressEntry {
            actor_name: "Người xử lý có một cái tên dài hơn năm mươi ký tự để thử cắt".into(),
            actor_title: None,
            department: Some("UBND xã".into()),
            at: at(2),
            content: "Tiếp nhận".into(),
            status_code: 2,
            started_at: Some(at(2)),
            due_at: None,
        };
        assert_eq!(
            serde_json::to_value(progress(&case.code, &entry, &settings)).unwrap_or_default(),
            json!({
                "MaHoSo": "G22.001-261129-0001", "NguoiXuLy": "Người xử lý có một cái tên dài hơn năm mươi ký tự ",
                "ChucDanh": "", "ThoiDiemXuLy": "20261128090000", "PhongBanXuLy": "UBND xã", "NoiDungXuLy": "Tiếp nhận",
                "TrangThai": "2", "NgayBatDau": "20261128090000", "NgayKetThucTheoQuyDinh": "",
            })
        );
    }

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
        let payload = serde_json::to_value(dossier(&case, &settings)).unwrap_or_default();
        assert_eq!(payload["TrangThaiHoSo"], "11");
        assert_eq!(payload["NgayTiepNhan"], "", "a date the case has not reached is empty");
        assert_eq!(payload["DinhDanhCHS"], json!([]));
    }

    #[test]
    fn the_applicants_identity_is_sent_only_when_it_is_a_national_id() {
        let mut party = Party { id_type: "cccd".into(), id_number: "004099012345".into(), ..Party::default() };
        let case = |party: &Party| CaseSnapshot { applicant: party.clone(), ..CaseSnapshot::default() };
        let settings = PortalSettings::default();
        let sent = |party: &Party| serde_json::to_value(dossier(&case(party), &settings)).unwrap_or_default()["DinhDanhCHS"].clone();
        assert_eq!(sent(&party), json!([{"LoaiDinhDanh": "1", "SoDinhDanh": "004099012345"}]));
        party.id_type = "passport".into();
        assert_eq!(sent(&party), json!([]), "no placeholder (domain.md §10.2)");
        assert!(already_exists("Hồ sơ đã tồn tại trên hệ thống"));
        assert!(!already_exists("Thêm mới thành công"));
    }
}
