//! A scriptable national portal adapter on mockito (domain.md §10.1): `POST /auth` gives
//! sessions, `POST /integration` takes `DongBoHoSoMC` and `CapNhatTienDoHoSoMC`, answers as the
//! test asks (up, down, 500, HTML, slow, "already exists", session expired) and records what it
//! accepted.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// How the portal answers an integration call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Success (`error_code` 0).
    Up,
    /// HTTP 503.
    Down,
    /// HTTP 500.
    ServerError,
    /// HTTP 200 with an HTML page.
    Html,
    /// Answers after 1.1 s (longer than the client's time-out of 1 s).
    Slow,
    /// A create is answered "already exists" (`error_code` 3).
    Exists,
}

/// A call the portal accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    /// `isUpdating` of a dossier sync.
    pub updating: Option<String>,
    pub case_code: String,
    /// `TrangThaiHoSo`, or `TrangThai` of a progress entry.
    pub status: String,
    /// Items (cases or progress entries) in the call.
    pub entries: usize,
}

#[derive(Debug)]
struct State {
    mode: Behaviour,
    script: VecDeque<Behaviour>,
    session: u32,
    logins: u32,
    decided: HashMap<String, Behaviour>,
    accepted: Vec<Call>,
    /// The items of the accepted calls as sent: (service, item).
    items: Vec<(String, Value)>,
    refused: usize,
    /// What the portal knows of each case: status and due date (`TraCuuHoSo`).
    known: HashMap<String, (String, String)>,
    /// Cases whose dossier the portal refuses (`error_code` 5), alone or in a list.
    invalid: Vec<String>,
}

pub struct FakePortal {
    pub server: mockito::ServerGuard,
    state: Arc<Mutex<State>>,
    _mocks: Vec<mockito::Mock>,
}

impl FakePortal {
    pub async fn start(mode: Behaviour) -> FakePortal {
        let mut server = mockito::Server::new_async().await;
        let state = Arc::new(Mutex::new(State {
            mode,
            script: VecDeque::new(),
            session: 1,
            logins: 0,
            decided: HashMap::new(),
            accepted: Vec::new(),
            items: Vec::new(),
            refused: 0,
            known: HashMap::new(),
            invalid: Vec::new(),
        }));
        let login_state = state.clone();
        let login = server
            .mock("POST", "/auth")
            .match_header("dstcode", "G22")
            .with_body_from_request(move |_| {
                let mut s = login_state.lock().unwrap();
                s.logins += 1;
                json!({"error_code": 0, "session": format!("s{}", s.session)}).to_string().into_bytes()
            })
            .create_async()
            .await;
        let status_state = state.clone();
        let body_state = state.clone();
        let integration = server
            .mock("POST", "/integration")
            .match_header("dstcode", "G22")
            .with_status_code_from_request(move |request| {
                let body = request.utf8_lossy_body().unwrap_or_default().into_owned();
                let mut s = status_state.lock().unwrap();
                let behaviour = s.script.pop_front().unwrap_or(s.mode);
                s.decided.insert(body, behaviour);
                match behaviour {
                    Behaviour::Down => 503,
                    Behaviour::ServerError => 500,
                    _ => 200,
                }
            })
            .with_body_from_request(move |request| {
                let text = request.utf8_lossy_body().unwrap_or_default().into_owned();
                let behaviour = body_state.lock().unwrap().decided.remove(&text).unwrap_or(Behaviour::Up);
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match behaviour {
                    Behaviour::Down | Behaviour::ServerError => return b"{}".to_vec(),
                    Behaviour::Html => return "<html><body>Lỗi hệ thống</body></html>".as_bytes().to_vec(),
                    Behaviour::Slow => {
                        std::thread::sleep(Duration::from_millis(1100));
                        return b"{\"error_code\":0}".to_vec();
                    }
                    Behaviour::Up | Behaviour::Exists => {}
                }
                let mut s = body_state.lock().unwrap();
                if body["session"] != format!("s{}", s.session) {
                    s.refused += 1;
                    return json!({"error_code": -1, "message": "Phiên làm việc đã hết hạn"}).to_string().into_bytes();
                }
                let service = body["service"].as_str().unwrap_or("").to_owned();
                let updating = body["isUpdating"].as_str().map(str::to_owned);
                let data = body["data"].as_array().cloned().unwrap_or_default();
                let status_field = if service == "DongBoHoSoMC" { "TrangThaiHoSo" } else { "TrangThai" };
                // One record per case (or progress entry) of the list.
                let calls: Vec<Call> = data
                    .iter()
                    .map(|item| Call {
                        service: service.clone(),
                        updating: updating.clone(),
                        case_code: item["MaHoSo"].as_str().unwrap_or("").to_owned(),
                        status: item[status_field].as_str().unwrap_or("").to_owned(),
                        entries: data.len(),
                    })
                    .collect();
                if service == "TraCuuHoSo" {
                    let code = body["MaHoSo"].as_str().unwrap_or("");
                    let result = s
                        .known
                        .get(code)
                        .map_or(json!([]), |(status, due)| json!([{"MaHoSo": code, "TrangThaiHoSo": status, "NgayHenTra": due}]));
                    return json!({"error_code": 0, "result": result}).to_string().into_bytes();
                }
                if service == "DongBoHoSoMC" && calls.iter().any(|c| s.invalid.contains(&c.case_code)) {
                    return json!({"error_code": 5, "message": "Dữ liệu hồ sơ không hợp lệ"}).to_string().into_bytes();
                }
                if service == "DongBoHoSoMC" {
                    for (item, call) in data.iter().zip(&calls) {
                        let due = item["NgayHenTra"].as_str().unwrap_or("").to_owned();
                        s.known.insert(call.case_code.clone(), (call.status.clone(), due));
                    }
                }
                if behaviour == Behaviour::Exists && service == "DongBoHoSoMC" && updating.as_deref() == Some("False") {
                    return json!({"error_code": 3, "message": "Hồ sơ đã tồn tại trên hệ thống"}).to_string().into_bytes();
                }
                s.accepted.extend(calls);
                s.items.extend(data.into_iter().map(|item| (service.clone(), item)));
                json!({"error_code": 0, "message": "Đồng bộ thành công"}).to_string().into_bytes()
            })
            .create_async()
            .await;
        FakePortal { server, state, _mocks: vec![login, integration] }
    }

    /// The environment that points a server at this portal.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("MOTCUA_NATIONAL_PORTAL_URL", self.server.url()),
            ("MOTCUA_NATIONAL_PORTAL_USERNAME", "motcua".into()),
            ("MOTCUA_NATIONAL_PORTAL_PASSWORD", "secret".into()),
            ("MOTCUA_NATIONAL_PORTAL_DSTCODE", "G22".into()),
            ("MOTCUA_NATIONAL_PORTAL_TIMEOUT_SECONDS", "1".into()),
            ("MOTCUA_OUTBOX_BACKOFF_MS", "50".into()),
            ("MOTCUA_OUTBOX_BACKOFF_CAP_MS", "300".into()),
            ("MOTCUA_OUTBOX_POLL_MS", "20".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn set_mode(&self, mode: Behaviour) {
        self.state.lock().unwrap().mode = mode;
    }

    /// The next calls get these answers, then the mode's.
    pub fn script(&self, behaviours: &[Behaviour]) {
        self.state.lock().unwrap().script.extend(behaviours);
    }

    /// Ends the current session: calls with it are refused until the client logs in again.
    pub fn expire_session(&self) {
        self.state.lock().unwrap().session += 1;
    }

    /// The portal refuses the dossier of `code` (and any list holding it) until `accept`.
    pub fn refuse(&self, code: &str) {
        self.state.lock().unwrap().invalid.push(code.to_owned());
    }

    /// The portal takes every dossier again.
    pub fn accept_all(&self) {
        self.state.lock().unwrap().invalid.clear();
    }

    /// The portal loses a case.
    pub fn forget(&self, code: &str) {
        self.state.lock().unwrap().known.remove(code);
    }

    /// The portal shows another status for a case.
    pub fn set_status(&self, code: &str, status: &str) {
        if let Some(entry) = self.state.lock().unwrap().known.get_mut(code) {
            entry.0 = status.to_owned();
        }
    }

    pub fn logins(&self) -> u32 {
        self.state.lock().unwrap().logins
    }

    pub fn refused_sessions(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    pub fn accepted(&self) -> Vec<Call> {
        self.state.lock().unwrap().accepted.clone()
    }

    /// The dossier syncs accepted for one case, in order: (isUpdating, status).
    pub fn dossier_syncs(&self, code: &str) -> Vec<(String, String)> {
        self.accepted()
            .into_iter()
            .filter(|c| c.service == "DongBoHoSoMC" && c.case_code == code)
            .map(|c| (c.updating.unwrap_or_default(), c.status))
            .collect()
    }

    /// The items of one case accepted by `service` (`DongBoHoSoMC`: dossiers; `CapNhatTienDoHoSoMC`:
    /// progress entries), in order, as sent.
    pub fn items(&self, service: &str, code: &str) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.items.iter().filter(|(named, item)| named == service && item["MaHoSo"] == code).map(|(_, item)| item.clone()).collect()
    }

    /// The progress statuses accepted for one case, in order.
    pub fn progress(&self, code: &str) -> Vec<String> {
        self.accepted().into_iter().filter(|c| c.service == "CapNhatTienDoHoSoMC" && c.case_code == code).map(|c| c.status).collect()
    }
}
