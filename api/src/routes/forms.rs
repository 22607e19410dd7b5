//! The one-stop forms of Circular 01/2018 Art. 9(1) (Decision 05/2020 Art. 16.1): receipt and
//! appointment (01), supplement request (02), refusal (03), apology and new appointment (04),
//! process control sheet (05) and the case register (06); and the per-case evaluation
//! (Chapter III indicators 1–4 and 7). Every form is built from the case and its history as
//! data first (`Accept: application/json` returns it), then rendered to PDF.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::Role;
use domain::case::{CaseAction, Timeliness, step_timeliness};
use domain::evaluation::{self, Score};
use domain::procedure::Channel;
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, CaseRow, EventRow};
use persistence::repo::{agencies, users};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::cases::{case_in_scope, procedure_of, timeliness};
use crate::auth::Principal;
use crate::error::{AppError, Code, Problem};
use crate::http::{FormatQuery, csv_response, pdf_response, to_csv, wants};
use crate::i18n::Lang;
use crate::pdf::{Align, Column, Layout, Weight};
use crate::state::AppState;
use crate::views::utc;
use persistence::stored::case::{DeclaredDocument, EventDetails, Party as Person};
use persistence::stored::procedure::{ProcedureContent, TimeUnit as TimeUnitName};

/// One labelled value of a form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormField {
    /// Stable key for front ends, e.g. `received_at`.
    pub key: String,
    /// The label printed on the form (Vietnamese).
    pub label: String,
    pub value: String,
}

/// A table of a form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The content of a form, as printed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormView {
    /// `receipt`, `supplement_request`, `refusal`, `apology` or `control_sheet`.
    pub form: String,
    /// The form's number in Circular 01/2018 (`01`–`05`).
    pub number: String,
    pub title: String,
    pub case_code: String,
    /// The agency above the receiving one (printed first in the header), if any.
    pub parent_agency_name: Option<String>,
    pub agency_name: String,
    /// E.g. "Cao Bằng, ngày 28 tháng 11 năm 2026".
    pub place_date: String,
    pub fields: Vec<FormField>,
    pub table: Option<FormTable>,
    /// Signature captions, left to right.
    pub signatures: Vec<String>,
}

/// Which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Receipt,
    SupplementRequest,
    Refusal,
    Apology,
    ControlSheet,
}

impl FormKind {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "receipt" => Self::Receipt,
            "supplement_request" => Self::SupplementRequest,
            "refusal" => Self::Refusal,
            "apology" => Self::Apology,
            "control_sheet" => Self::ControlSheet,
            _ => return None,
        })
    }

    fn wire(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::SupplementRequest => "supplement_request",
            Self::Refusal => "refusal",
            Self::Apology => "apology",
            Self::ControlSheet => "control_sheet",
        }
    }

    fn number(self) -> &'static str {
        match self {
            Self::Receipt => "01",
            Self::SupplementRequest => "02",
            Self::Refusal => "03",
            Self::Apology => "04",
            Self::ControlSheet => "05",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Receipt => "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            Self::SupplementRequest => "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
            Self::Refusal => "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
            Self::Apology => "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
            Self::ControlSheet => "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        }
    }
}

/// An event with the name and agency of its actor.
struct NamedEvent {
    event: EventRow,
    actor_name: String,
    actor_agency: Option<String>,
}

/// Everything a form of one case is built from.
struct CaseFile {
    case: CaseRow,
    procedure_name: String,
    content: ProcedureContent,
    agency_name: String,
    parent_agency_name: Option<String>,
    events: Vec<NamedEvent>,
}

fn load_file(conn: &mut AnyConnection, case: CaseRow) -> Result<CaseFile, AppError> {
    let (version, content) = procedure_of(conn, &case)?;
    let agency = agencies::find(conn, &case.agency_id)?.ok_or_else(|| AppError::internal("case without its agency"))?;
    let parent_agency_name = match &agency.parent_id {
        Some(parent) => agencies::find(conn, parent)?.map(|a| a.name),
        None => None,
    };
    let mut events = Vec::new();
    let mut names: std::collections::HashMap<String, (String, Option<String>)> = std::collections::HashMap::new();
    for event in repo::events(conn, &case.id)? {
        let (actor_name, actor_agency) = match &event.actor_id {
            Some(id) => {
                if !names.contains_key(id) {
                    let user = users::find(conn, id)?;
                    names.insert(id.clone(), user.map(|u| (u.full_name, u.agency_id)).unwrap_or_default());
                }
                names.get(id).cloned().unwrap_or_default()
            }
            None => (String::new(), None),
        };
        events.push(NamedEvent { event, actor_name, actor_agency });
    }
    Ok(CaseFile { case, procedure_name: version.name, content, agency_name: agency.name, parent_agency_name, events })
}

fn local(at: NaiveDateTime) -> NaiveDateTime {
    at.and_utc().with_timezone(&domain::time::VN).naive_local()
}

/// "08 giờ 30 phút, ngày 28/11/2026".
fn clock_text(at: NaiveDateTime) -> String {
    local(at).format("%H giờ %M phút, ngày %d/%m/%Y").to_string()
}

fn date_text(at: NaiveDateTime) -> String {
    local(at).format("%d/%m/%Y").to_string()
}

fn place_date(place: &str, today: NaiveDate) -> String {
    format!("{place}, ngày {} tháng {} năm {}", today.format("%d"), today.format("%m"), today.format("%Y"))
}

fn processing_time_text(content: &ProcedureContent) -> String {
    let unit = match content.processing_time.unit {
        TimeUnitName::WorkingDay => "ngày làm việc",
        TimeUnitName::CalendarDay => "ngày",
        TimeUnitName::WorkingHour => "giờ làm việc",
    };
    format!("{} {unit}", content.processing_time.value)
}

fn field(key: &str, label: &str, value: impl Into<String>) -> FormField {
    FormField { key: key.to_owned(), label: label.to_owned(), value: value.into() }
}

fn last_event(file: &CaseFile, action: CaseAction) -> Option<&NamedEvent> {
    file.events.iter().rev().find(|e| action_of(&e.event) == Some(action))
}

fn not_available(kind: FormKind) -> AppError {
    AppError::new(Code::Conflict).with_detail(
        format!("Hồ sơ chưa có nội dung cho mẫu {} ({}).", kind.number(), kind.title()),
        format!("The case has nothing for form {} yet.", kind.number()),
    )
}

/// The action an event records (`None` for the intake's `submit`).
fn action_of(event: &EventRow) -> Option<CaseAction> {
    event.action.action()
}

/// One row of the process control sheet per hand-over, from the history.
fn control_rows(file: &CaseFile, now: DateTime<Utc>) -> Vec<(Vec<String>, Option<Timeliness>)> {
    let handovers: Vec<&NamedEvent> = file.events.iter().filter(|e| action_of(&e.event).is_some_and(CaseAction::hands_over)).collect();
    let mut rows = Vec::new();
    for (index, current) in handovers.iter().enumerate() {
        let next = handovers.get(index + 1);
        let step = current.event.step.clone().unwrap_or_default();
        // Only hand-overs into a workflow step carry that step's due instant; the step ends
        // with the next hand-over (or is still open).
        let enters_step = action_of(&current.event).is_some_and(CaseAction::enters_step);
        let judged = current
            .event
            .step_due_at
            .filter(|_| enters_step)
            .map(|due| step_timeliness(due.and_utc(), next.map(|n| n.event.at.and_utc()), now));
        let mut handover = format!("1. Giao: {}\nNgười giao: {}", clock_text(current.event.at), current.actor_name);
        if let Some(next) = next {
            handover.push_str(&format!("\n2. Nhận: {}\nNgười nhận: {}", clock_text(next.event.at), next.actor_name));
        }
        let body = if step.is_empty() { file.agency_name.clone() } else { format!("{} ({step})", file.agency_name) };
        let verdict = judged.map(|t| t.label().vi.to_owned()).unwrap_or_default();
        rows.push((vec![body, handover, verdict, current.event.note.clone().unwrap_or_default()], judged));
    }
    rows
}

fn build_form(file: &CaseFile, kind: FormKind, place: &str, now: DateTime<Utc>) -> Result<FormView, AppError> {
    let case = &file.case;
    let applicant: Person = persistence::stored::read(&case.applicant)?;
    let representative: Option<Person> = case.representative.as_deref().map(persistence::stored::read).transpose()?;
    let today = now.with_timezone(&domain::time::VN).date_naive();
    let addressee = field("addressee", "Kính gửi", &applicant.full_name);
    let code = field("case_code", "Mã hồ sơ", &case.code);
    let procedure = field("procedure", "Tên thủ tục hành chính", &file.procedure_name);
    let officer = |action: CaseAction| last_event(file, action).map(|e| e.actor_name.clone()).unwrap_or_default();
    let mut table = None;
    let (fields, signatures) = match kind {
        FormKind::Receipt => {
            let received = case.received_at.ok_or_else(|| not_available(kind))?;
            let documents: Vec<DeclaredDocument> = persistence::stored::read(&case.documents)?;
            table = Some(FormTable {
                columns: vec!["STT".into(), "Tên giấy tờ".into(), "Số bản chính".into(), "Số bản sao".into()],
                rows: documents
                    .iter()
                    .enumerate()
                    .map(|(i, d)| vec![(i + 1).to_string(), d.name.clone(), d.originals.to_string(), d.copies.to_string()])
                    .collect(),
            });
            let receiver = officer(CaseAction::Accept);
            (
                vec![
                    code,
                    field("receiving_unit", "Bộ phận tiếp nhận", &file.agency_name),
                    field("owner", "Tiếp nhận hồ sơ của", &applicant.full_name),
                    field("submitter", "Người nộp", representative.as_ref().map_or(&applicant.full_name, |r| &r.full_name)),
                    field("address", "Địa chỉ", applicant.address.clone().unwrap_or_default()),
                    field("phone", "Số điện thoại", applicant.phone.clone().unwrap_or_default()),
                    field("email", "Email", applicant.email.clone().unwrap_or_default()),
                    field("id_number", "Số giấy tờ tùy thân", &applicant.id_number),
                    field("request", "Nội dung yêu cầu giải quyết", format!("{} – {}", file.procedure_name, case.summary)),
                    field("sets", "(2) Số lượng hồ sơ", "01 bộ"),
                    field("processing_time", "(3) Thời gian giải quyết theo quy định", processing_time_text(&file.content)),
                    field("received_at", "(4) Thời gian nhận hồ sơ", clock_text(received)),
                    field("due_at", "(5) Thời gian trả kết quả", case.due_at.map(|d| format!("Sau {}", clock_text(d))).unwrap_or_default()),
                    field("return_method", "Nơi nhận kết quả", return_method_text(case.return_method)),
                    field("lookup", "Tra cứu", format!("Tra cứu tình trạng hồ sơ trên Cổng Dịch vụ công bằng mã hồ sơ {}.", case.code)),
                ],
                vec!["NGƯỜI NỘP HỒ SƠ".to_owned(), format!("NGƯỜI TIẾP NHẬN HỒ SƠ\n{receiver}")],
            )
        }
        FormKind::SupplementRequest => {
            let request = last_event(file, CaseAction::RequestSupplement).ok_or_else(|| not_available(kind))?;
            let EventDetails::RequestSupplement(d) = EventDetails::of_column(request.event.action, request.event.details.as_deref()) else {
                return Err(not_available(kind));
            };
            let items = d.items;
            let mut fields = vec![
                addressee,
                code,
                procedure,
                field("submitted_at", "Ngày nộp hồ sơ", clock_text(case.submitted_at)),
                field(
                    "items",
                    "Nội dung cần bổ sung, hoàn thiện",
                    items.iter().enumerate().map(|(i, item)| format!("{}. {item}", i + 1)).collect::<Vec<_>>().join("\n"),
                ),
                field("reason", "Lý do", request.event.note.clone().unwrap_or_default()),
                field("requested_at", "Ngày yêu cầu", clock_text(request.event.at)),
            ];
            if let Some(deadline) = d.supplement_due_at {
                fields.push(field("deadline", "Thời hạn bổ sung", clock_text(deadline.naive_utc())));
            }
            (fields, vec![format!("NGƯỜI TIẾP NHẬN HỒ SƠ\n{}", request.actor_name)])
        }
        FormKind::Refusal => {
            let refusal = last_event(file, CaseAction::Refuse).ok_or_else(|| not_available(kind))?;
            (
                vec![
                    addressee,
                    code,
                    procedure,
                    field("submitted_at", "Ngày nhận hồ sơ", clock_text(case.received_at.unwrap_or(case.submitted_at))),
                    field("reason", "Lý do từ chối", refusal.event.note.clone().unwrap_or_default()),
                    field("refused_at", "Ngày từ chối", clock_text(refusal.event.at)),
                ],
                vec![format!("NGƯỜI TIẾP NHẬN HỒ SƠ\n{}", refusal.actor_name)],
            )
        }
        FormKind::Apology => {
            let apology = last_event(file, CaseAction::Apologize).ok_or_else(|| not_available(kind))?;
            let new_due = apology.event.due_at.map(clock_text).unwrap_or_default();
            (
                vec![
                    addressee,
                    field("received_at", "Ngày tiếp nhận hồ sơ", case.received_at.map(clock_text).unwrap_or_default()),
                    code,
                    field("procedure", "Thủ tục hành chính / lĩnh vực", format!("{} / {}", file.procedure_name, file.content.field.name)),
                    field("original_due_at", "Hẹn trả kết quả ban đầu", case.original_due_at.map(clock_text).unwrap_or_default()),
                    field("reason", "Lý do chậm trễ", apology.event.note.clone().unwrap_or_default()),
                    field("new_due_at", "Hẹn lại ngày trả kết quả", new_due),
                    field(
                        "apology",
                        "",
                        format!("{} xin lỗi ông/bà vì sự chậm trễ này và hẹn lại thời gian trả kết quả như trên.", file.agency_name),
                    ),
                ],
                vec![format!("THỦ TRƯỞNG CƠ QUAN\n{}", apology.actor_name)],
            )
        }
        FormKind::ControlSheet => {
            if case.received_at.is_none() {
                return Err(not_available(kind));
            }
            table = Some(FormTable {
                columns: vec![
                    "TÊN CƠ QUAN".into(),
                    "THỜI GIAN GIAO, NHẬN HỒ SƠ".into(),
                    "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn / Đúng hạn / Quá hạn)".into(),
                    "GHI CHÚ".into(),
                ],
                rows: control_rows(file, now).into_iter().map(|(row, _)| row).collect(),
            });
            (
                vec![
                    code,
                    field("owner", "Kèm theo hồ sơ của", &applicant.full_name),
                    field("phone", "Số điện thoại", applicant.phone.clone().unwrap_or_default()),
                    field("procedure", "Thủ tục", &file.procedure_name),
                    field("received_at", "Thời gian nhận hồ sơ", case.received_at.map(clock_text).unwrap_or_default()),
                    field("due_at", "Thời gian hẹn trả kết quả", case.due_at.map(clock_text).unwrap_or_default()),
                    field("return_method", "Nơi nhận kết quả", return_method_text(case.return_method)),
                ],
                vec![],
            )
        }
    };
    Ok(FormView {
        form: kind.wire().to_owned(),
        number: kind.number().to_owned(),
        title: kind.title().to_owned(),
        case_code: case.code.clone(),
        parent_agency_name: file.parent_agency_name.clone(),
        agency_name: file.agency_name.clone(),
        place_date: place_date(place, today),
        fields,
        table,
        signatures,
    })
}

fn return_method_text(method: Channel) -> &'static str {
    match method {
        Channel::Postal => "Qua dịch vụ bưu chính công ích",
        Channel::Online => "Trực tuyến",
        Channel::Counter => "Tại Bộ phận Một cửa",
    }
}

/// Renders a form: the national header, the title, the fields, the table and the signatures.
fn render_form(form: &FormView) -> Result<Vec<u8>, AppError> {
    let mut layout = Layout::a4(false).map_err(AppError::internal)?;
    let parent = form.parent_agency_name.clone().unwrap_or_default();
    let left: Vec<(&str, Weight)> = vec![(parent.as_str(), Weight::Regular), (form.agency_name.as_str(), Weight::Bold)];
    layout.two_columns(&left, &[("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Weight::Bold), ("Độc lập - Tự do - Hạnh phúc", Weight::Bold)], 10.0);
    layout.gap(4.0);
    layout.paragraph(&format!("Mẫu số {}", form.number), 9.0, Weight::Regular, Align::Left);
    layout.paragraph(&form.place_date, 10.0, Weight::Regular, Align::Right);
    layout.gap(10.0);
    layout.paragraph(&form.title, 14.0, Weight::Bold, Align::Center);
    layout.paragraph(&format!("Mã hồ sơ: {}", form.case_code), 11.0, Weight::Regular, Align::Center);
    layout.gap(10.0);
    for f in form.fields.iter().filter(|f| f.key != "case_code") {
        let text = if f.label.is_empty() { f.value.clone() } else { format!("{}: {}", f.label, f.value) };
        layout.paragraph(&text, 11.0, Weight::Regular, Align::Left);
    }
    if let Some(table) = &form.table {
        layout.gap(8.0);
        let shares: Vec<f32> = match table.columns.len() {
            4 if form.number == "01" => vec![0.6, 5.0, 1.4, 1.4],
            4 => vec![2.2, 3.2, 1.8, 1.6],
            n => vec![1.0; n],
        };
        let columns: Vec<Column<'_>> = table.columns.iter().zip(shares).map(|(title, share)| Column { title, share }).collect();
        layout.table(&columns, &table.rows, 9.5);
    }
    if !form.signatures.is_empty() {
        layout.gap(20.0);
        let captions: Vec<Vec<String>> = form.signatures.iter().map(|s| s.split('\n').map(str::to_owned).collect()).collect();
        let block = |c: &Vec<String>| -> Vec<(String, Weight)> {
            let mut lines: Vec<(String, Weight)> = vec![];
            for (i, line) in c.iter().enumerate() {
                if i == 0 {
                    lines.push((line.clone(), Weight::Bold));
                    lines.push(("(Ký, ghi rõ họ tên)".to_owned(), Weight::Regular));
                    lines.push((String::new(), Weight::Regular));
                    lines.push((String::new(), Weight::Regular));
                } else {
                    lines.push((line.clone(), Weight::Bold));
                }
            }
            lines
        };
        let (left, right) = match captions.as_slice() {
            [only] => (Vec::new(), block(only)),
            [first, second, ..] => (block(first), block(second)),
            [] => (Vec::new(), Vec::new()),
        };
        let left: Vec<(&str, Weight)> = left.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        let right: Vec<(&str, Weight)> = right.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        layout.two_columns(&left, &right, 10.5);
    }
    layout.finish().map_err(AppError::internal)
}

/// A form of a case (owner, staff in scope): PDF by default, its data with
/// `Accept: application/json`. 409 when the case has nothing for that form yet (no refusal,
/// no supplement request…).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "Case code"),
        ("form" = String, Path, description = "receipt (01), supplement_request (02), refusal (03), apology (04), control_sheet (05)"),
        FormatQuery
    ),
    responses(
        (status = 200, description = "The form: its data, or the printable PDF", content(
            (FormView = "application/json"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown case or form, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case has nothing for this form yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}/forms/{form}")]
pub async fn get_case_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<(String, String)>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, form) = path.into_inner();
    let kind = FormKind::parse(&form).ok_or_else(AppError::not_found)?;
    let format = query.into_inner().format;
    if format.as_deref().is_some_and(|f| f != "json" && f != "pdf") {
        return Err(AppError::invalid("format", "must be json or pdf"));
    }
    let (place, now) = (state.config.place_name.clone(), state.clock.now());
    let view = crate::db::run(&state.pool, move |conn| {
        let (case, _) = case_in_scope(conn, &principal, &code)?;
        let file = load_file(conn, case)?;
        build_form(&file, kind, &place, now)
    })
    .await?;
    if wants(&req, format.as_deref(), "application/json", "json") {
        return Ok(HttpResponse::Ok().json(view));
    }
    let name = format!("mau-{}-{}", view.number, view.case_code);
    let bytes = web::block(move || render_form(&view)).await.map_err(AppError::internal)??;
    Ok(pdf_response(bytes, &name))
}

/// The period and agency of the register.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// The agency (its subtree is included); default the caller's own.
    pub agency_id: Option<String>,
    /// First day (inclusive), `YYYY-MM-DD`, Asia/Ho_Chi_Minh.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// `json`, `csv` or `pdf`; default from `Accept`.
    pub format: Option<String>,
}

/// One line of the case register (form 06).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterRow {
    pub no: usize,
    pub case_code: String,
    pub procedure_name: String,
    pub summary: String,
    pub sets: u32,
    pub owner_name: String,
    pub owner_address: String,
    pub owner_phone: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub received_by: String,
    pub agency_name: String,
    pub status_label: String,
    pub timeliness: Option<String>,
}

/// The case register (sổ theo dõi hồ sơ) of an agency for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterView {
    pub title: String,
    pub agency_id: String,
    pub agency_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<RegisterRow>,
}

/// At most this many cases in one register; longer periods are asked for in parts.
const REGISTER_LIMIT: i64 = 10_000;

const REGISTER_COLUMNS: [&str; 14] = [
    "STT",
    "Mã hồ sơ",
    "Tên TTHC",
    "Nội dung hồ sơ",
    "Số lượng (bộ)",
    "Họ tên chủ hồ sơ",
    "Địa chỉ",
    "Số điện thoại",
    "Nhận hồ sơ",
    "Hẹn trả kết quả",
    "Ngày có kết quả",
    "Ngày trả kết quả",
    "Người nhận hồ sơ",
    "Ghi chú",
];

fn register_cells(row: &RegisterRow) -> Vec<String> {
    let date = |t: Option<DateTime<Utc>>| t.map(|t| date_text(t.naive_utc())).unwrap_or_default();
    vec![
        row.no.to_string(),
        row.case_code.clone(),
        row.procedure_name.clone(),
        row.summary.clone(),
        row.sets.to_string(),
        row.owner_name.clone(),
        row.owner_address.clone(),
        row.owner_phone.clone(),
        date(row.received_at),
        date(row.due_at),
        date(row.finished_at),
        date(row.returned_at),
        row.received_by.clone(),
        format!("{}{}", row.status_label, row.timeliness.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()),
    ]
}

fn render_register(view: &RegisterView) -> Result<Vec<u8>, AppError> {
    let mut layout = Layout::a4(true).map_err(AppError::internal)?;
    layout.paragraph("Mẫu số 06", 9.0, Weight::Regular, Align::Left);
    layout.paragraph(&view.title, 14.0, Weight::Bold, Align::Center);
    layout.paragraph(&view.agency_name, 11.0, Weight::Bold, Align::Center);
    layout.paragraph(
        &format!("Từ ngày {} đến ngày {}", view.from.format("%d/%m/%Y"), view.to.format("%d/%m/%Y")),
        10.0,
        Weight::Regular,
        Align::Center,
    );
    layout.gap(8.0);
    let shares = [0.6, 2.7, 1.8, 1.7, 0.6, 1.2, 1.4, 1.3, 1.2, 1.2, 1.2, 1.2, 1.2, 1.3];
    let columns: Vec<Column<'_>> = REGISTER_COLUMNS.iter().zip(shares).map(|(title, share)| Column { title, share }).collect();
    let rows: Vec<Vec<String>> = view.rows.iter().map(register_cells).collect();
    layout.table(&columns, &rows, 7.0);
    layout.finish().map_err(AppError::internal)
}

/// One line of the register, in the caller's language.
fn register_row(index: usize, entry: crate::app::cases::register::Entry, now: NaiveDateTime, lang: Lang) -> Result<RegisterRow, AppError> {
    let case = &entry.case;
    let status = case.status;
    Ok(RegisterRow {
        no: index + 1,
        case_code: case.code.clone(),
        procedure_name: entry.procedure_name,
        summary: case.summary.clone(),
        sets: 1,
        owner_name: entry.applicant.full_name,
        owner_address: entry.applicant.address.unwrap_or_default(),
        owner_phone: entry.applicant.phone.unwrap_or_default(),
        received_at: case.received_at.map(utc),
        due_at: case.due_at.map(utc),
        finished_at: case.finished_at.map(utc),
        returned_at: case.returned_at.map(utc),
        received_by: entry.received_by,
        agency_name: entry.agency_name,
        status_label: lang.pick(status.label()).to_owned(),
        timeliness: timeliness(case, now).map(|t| lang.pick(t.label()).to_owned()),
    })
}

/// The case register (form 06) of an agency subtree for a period (staff): JSON by default,
/// `text/csv` or `application/pdf` by `Accept` or `format`.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(RegisterQuery),
    responses(
        (status = 200, description = "The register as data, CSV (UTF-8 with BOM) or PDF", content(
            (RegisterView = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad period, or more cases than one register holds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/registers/cases")]
pub async fn get_case_register(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::Officer, Role::AgencyAdmin, Role::Supervisor, Role::SystemAdmin])?;
    let query = query.into_inner();
    let (start, end) = domain::time::local_days(query.from, query.to)?;
    if query.format.as_deref().is_some_and(|f| !["json", "csv", "pdf"].contains(&f)) {
        return Err(AppError::invalid("format", "must be json, csv or pdf"));
    }
    let lang = Lang::of(&req);
    let (from, to, format) = (query.from, query.to, query.format.clone());
    let shared = state.get_ref().clone();
    let agency_id = query.agency_id.clone();
    let view = crate::db::run(&state.pool, move |conn| {
        let register = crate::app::cases::register::register(conn, &principal, agency_id, (start, end), REGISTER_LIMIT)?;
        let now = shared.now();
        let rows = register
            .entries
            .into_iter()
            .enumerate()
            .map(|(index, entry)| register_row(index, entry, now, lang))
            .collect::<Result<_, AppError>>()?;
        Ok(RegisterView {
            title: "SỔ THEO DÕI TÌNH HÌNH TIẾP NHẬN HỒ SƠ THỦ TỤC HÀNH CHÍNH".into(),
            agency_id: register.agency.id,
            agency_name: register.agency.name,
            from,
            to,
            rows,
        })
    })
    .await?;
    let name = format!("so-theo-doi-{}-{}", view.from, view.to);
    if wants(&req, format.as_deref(), "text/csv", "csv") {
        return Ok(csv_response(to_csv(&REGISTER_COLUMNS, view.rows.iter().map(register_cells)), &name));
    }
    if wants(&req, format.as_deref(), "application/pdf", "pdf") {
        let bytes = web::block(move || render_register(&view)).await.map_err(AppError::internal)??;
        return Ok(pdf_response(bytes, &name));
    }
    Ok(HttpResponse::Ok().json(view))
}

/// One indicator of the evaluation tool.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    /// 1–9 (Circular 01/2018 Chapter III).
    pub number: u8,
    pub name: String,
    /// `case` (decided per case) or `agency` (decided per agency and quarter).
    pub scope: String,
    /// 0, 1 or 2; absent when the data does not decide it (yet).
    pub points: Option<u8>,
    /// What the score rests on.
    pub basis: String,
}

/// The evaluation of one case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseEvaluationView {
    pub case_code: String,
    pub indicators: Vec<IndicatorView>,
    /// Sum of the decided indicators.
    pub points: u32,
    /// Maximum of the decided indicators (2 each).
    pub max_points: u32,
}

fn indicator(number: u8, name: &str, score: Score, basis: String) -> IndicatorView {
    IndicatorView {
        number,
        name: name.to_owned(),
        scope: "case".into(),
        points: match score {
            Score::Points(p) => Some(p),
            Score::Undecided => None,
        },
        basis,
    }
}

fn evaluate(file: &CaseFile, complaints: usize, now: DateTime<Utc>) -> CaseEvaluationView {
    let case = &file.case;
    let finished = timeliness(case, now.naive_utc()).filter(|t| matches!(t, Timeliness::Early | Timeliness::OnTime | Timeliness::Late));
    let steps: Vec<Timeliness> = control_rows(file, now).into_iter().filter_map(|(_, t)| t).collect();
    let requests: Vec<&NamedEvent> = file.events.iter().filter(|e| action_of(&e.event) == Some(CaseAction::RequestSupplement)).collect();
    let bodies: std::collections::HashSet<String> =
        requests.iter().map(|e| e.actor_agency.clone().unwrap_or_else(|| case.agency_id.clone())).collect();
    let label = |t: Option<Timeliness>| t.map_or("chưa có kết quả".to_owned(), |t| t.label().vi.to_owned());
    let mut indicators = vec![
        indicator(1, "Tổng thời gian giải quyết TTHC so với quy định", evaluation::total_time(finished), label(finished)),
        indicator(
            2,
            "Thời gian thực hiện của từng cơ quan tham gia giải quyết",
            evaluation::step_times(&steps),
            steps.iter().map(|t| t.label().vi).collect::<Vec<_>>().join(", "),
        ),
        indicator(
            3,
            "Số lần phải liên hệ nơi tiếp nhận để hoàn thiện hồ sơ",
            evaluation::contacts(requests.len()),
            format!("{} lần yêu cầu bổ sung", requests.len()),
        ),
        indicator(
            4,
            "Số cơ quan, tổ chức phải liên hệ để hoàn thiện hồ sơ",
            evaluation::bodies_contacted(bodies.len()),
            format!("{} cơ quan yêu cầu bổ sung", bodies.len()),
        ),
    ];
    for (number, name) in [(5, "Tổ chức tiếp nhận, giải quyết, trả kết quả tại Bộ phận Một cửa"), (6, "Công khai TTHC")]
    {
        indicators.push(IndicatorView {
            number,
            name: name.into(),
            scope: "agency".into(),
            points: None,
            basis: "đánh giá theo cơ quan, theo quý".into(),
        });
    }
    indicators.push(indicator(
        7,
        "Thái độ của cán bộ, công chức, viên chức",
        evaluation::conduct(finished, complaints),
        if complaints == 0 {
            format!("{}; không có phản ánh về hành vi", label(finished))
        } else {
            format!("{complaints} phản ánh về hành vi của cán bộ, công chức")
        },
    ));
    for (number, name) in [(8, "Tiếp thu, giải trình phản ánh, kiến nghị"), (9, "Tiến độ, chất lượng cung cấp dịch vụ công trực tuyến")]
    {
        indicators.push(IndicatorView {
            number,
            name: name.into(),
            scope: "agency".into(),
            points: None,
            basis: "đánh giá theo cơ quan, theo quý".into(),
        });
    }
    let decided: Vec<u8> = indicators.iter().filter_map(|i| i.points).collect();
    CaseEvaluationView {
        case_code: case.code.clone(),
        points: decided.iter().map(|p| u32::from(*p)).sum(),
        max_points: u32::try_from(decided.len()).unwrap_or(0) * 2,
        indicators,
    }
}

/// The nine indicators of the evaluation tool as far as the case's data decides them (owner,
/// staff in scope): 1–4 and 7 per case; 5, 6, 8 and 9 belong to the agency's quarterly score.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    responses(
        (status = 200, description = "The evaluation", body = CaseEvaluationView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}/evaluation")]
pub async fn get_case_evaluation(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<CaseEvaluationView>, AppError> {
    let (code, now) = (code.into_inner(), state.clock.now());
    let view = crate::db::run(&state.pool, move |conn| {
        let (case, _) = case_in_scope(conn, &principal, &code)?;
        let complaints = usize::try_from(persistence::repo::feedback::conduct_complaints(conn, &case.id)?).unwrap_or(usize::MAX);
        Ok(evaluate(&load_file(conn, case)?, complaints, now))
    })
    .await?;
    Ok(web::Json(view))
}
