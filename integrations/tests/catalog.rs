//! The adapter transport and the national catalogue against a mock of the national system.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use domain::calendar::DurationUnit;
use domain::procedure::{Channel, OnlineLevel};
use integrations::national::catalog::{CatalogClient, map_procedure};
use integrations::{AdapterClient, AdapterConfig, AdapterError};
use mockito::Matcher;
use serde_json::{Value, json};

fn config(server: &mockito::ServerGuard) -> AdapterConfig {
    let mut config = AdapterConfig::new(&server.url(), "caobang", "secret", "000.00.00.H14");
    config.timeout = Duration::from_millis(500);
    config.backoff = Duration::from_millis(10);
    config.retries = 2;
    config
}

fn client(server: &mockito::ServerGuard, page_size: u32) -> CatalogClient {
    CatalogClient::new(AdapterClient::new(config(server)).unwrap(), page_size)
}

async fn login_mock(server: &mut mockito::ServerGuard, session: &str, hits: usize) -> mockito::Mock {
    server
        .mock("POST", "/auth")
        .match_header("dstcode", "000.00.00.H14")
        .match_body(Matcher::Json(json!({"username": "caobang", "password": "secret"})))
        .with_body(json!({"error_code": 0, "session": session}).to_string())
        .expect(hits)
        .create_async()
        .await
}

pub fn record(code: &str) -> Value {
    json!({
        "MATTHC": code,
        "TENTTHC": "Đăng ký khai sinh",
        "MUCDO": "4",
        "LINHVUCTHUCHIEN": [{"MALINHVUC": "G09-HT", "TENLINHVUC": "Hộ tịch"}],
        "CACHTHUCTHUCHIEN": [
            {"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Ngày làm việc", "PHILEPHI": [{"MAPHILEPHI": "LP01", "SOTIEN": "8.000", "MOTA": "Lệ phí"}]}]},
            {"KENH": 2, "THOIGIAN": [{"THOIGIANGIAIQUYET": 3, "DONVITINH": "Ngày làm việc"}]},
            {"KENH": "3", "THOIGIAN": [{"THOIGIANGIAIQUYET": 5, "DONVITINH": "Ngày làm việc"}]}
        ],
        "THANHPHANHOSO": [{"GIAYTO": [
            {"MAGIAYTO": "TK01", "TENGIAYTO": "Tờ khai đăng ký khai sinh", "SOBANCHINH": 1, "SOBANSAO": 0, "TENMAUDON": "Mẫu tờ khai", "URL": "https://csdl.dichvucong.gov.vn/mau.docx"},
            {"MAGIAYTO": "GCS", "TENGIAYTO": "Giấy chứng sinh", "SOBANCHINH": "1", "SOBANSAO": "0"}
        ]}],
        "KETQUATHUCHIEN": [{"MAKETQUA": "KQ01", "TENKETQUA": "Giấy khai sinh"}],
        "CANCUPHAPLY": [{"SOVANBAN": "60/2014/QH13", "TENVANBAN": "Luật Hộ tịch"}],
        "COQUANTHUCHIEN": [{"MADONVI": "000.20.01.H14", "TENDONVI": "UBND phường Thục Phán"}]
    })
}

#[test]
fn a_national_record_maps_to_our_terms() {
    let mapped = map_procedure(&record("1.001193.000.00.00.H14")).unwrap();
    assert_eq!(mapped.code.as_str(), "1.001193.000.00.00.H14");
    assert_eq!(mapped.national_code, "1.001193");
    assert_eq!(mapped.online_level, OnlineLevel::Full);
    assert_eq!(mapped.channels, vec![Channel::Counter, Channel::Online, Channel::Postal]);
    assert_eq!((mapped.processing_time.value(), mapped.processing_time.unit()), (5, DurationUnit::WorkingDay));
    assert_eq!(mapped.online_processing_time.map(|t| t.value()), Some(3));
    assert_eq!(mapped.fees[0].amount, 8000);
    assert_eq!(mapped.documents.len(), 2);
    assert_eq!(mapped.documents[0].template.as_ref().map(|t| t.0.as_str()), Some("Mẫu tờ khai"));
    assert_eq!(mapped.result, Some((Some("KQ01".into()), "Giấy khai sinh".into())));
    assert_eq!(mapped.agency_codes, vec!["000.20.01.H14".to_owned()]);
    assert_eq!(mapped.source_version.len(), 16, "a digest when PHIENBAN is absent");
}

#[test]
fn records_that_break_our_rules_are_refused_with_the_field() {
    let mut no_code = record("x");
    no_code["MATTHC"] = json!("not-a-code");
    assert_eq!(map_procedure(&no_code).unwrap_err().field, "MATTHC");
    let mut unit = record("1.001193.000.00.00.H14");
    unit["CACHTHUCTHUCHIEN"][0]["THOIGIAN"][0]["DONVITINH"] = json!("Tuần");
    assert_eq!(map_procedure(&unit).unwrap_err().field, "THOIGIAN.DONVITINH");
    let mut channel = record("1.001193.000.00.00.H14");
    channel["CACHTHUCTHUCHIEN"][0]["KENH"] = json!("9");
    assert!(map_procedure(&channel).is_err());
    let mut name = record("1.001193.000.00.00.H14");
    name.as_object_mut().unwrap().remove("TENTTHC");
    assert_eq!(map_procedure(&name).unwrap_err().field, "TENTTHC");
}

#[tokio::test]
async fn login_list_pages_and_fetch() {
    let mut server = mockito::Server::new_async().await;
    let login = login_mock(&mut server, "s1", 1).await;
    let page = |n: u64, codes: &[&str]| {
        let items: Vec<Value> = codes.iter().map(|c| json!({"MATTHC": c, "TENTTHC": "x"})).collect();
        (n, json!({"error_code": 0, "message": "ok", "result": items}).to_string())
    };
    let mut mocks = Vec::new();
    for (n, body) in [page(1, &["1.000001.000.00.00.H14", "1.000002.000.00.00.H14"]), page(2, &["1.000003.000.00.00.H14"])] {
        mocks.push(
            server
                .mock("POST", "/share")
                .match_header("dstcode", "000.00.00.H14")
                .match_body(Matcher::PartialJson(
                    json!({"service": "LayDanhSachTTHC", "session": "s1", "madonvi": "000.00.00.H14", "trang": n, "sobanghi": 2}),
                ))
                .with_body(body)
                .expect(1)
                .create_async()
                .await,
        );
    }
    let detail = server
        .mock("POST", "/share")
        .match_body(Matcher::PartialJson(json!({"service": "LayThuTuc", "maTTHC": "1.000001.000.00.00.H14"})))
        .with_body(json!({"error_code": 0, "result": [record("1.000001.000.00.00.H14")]}).to_string())
        .create_async()
        .await;
    let catalog = client(&server, 2);
    let codes = catalog.list_codes().await.unwrap();
    assert_eq!(codes.len(), 3);
    let raw = catalog.fetch("1.000001.000.00.00.H14").await.unwrap();
    assert_eq!(map_procedure(&raw).unwrap().name, "Đăng ký khai sinh");
    login.assert_async().await;
    for m in mocks {
        m.assert_async().await;
    }
    detail.assert_async().await;
}

#[tokio::test]
async fn a_bad_session_logs_in_again_once() {
    let mut server = mockito::Server::new_async().await;
    let login = login_mock(&mut server, "s1", 2).await;
    let expired = server
        .mock("POST", "/share")
        .with_body(json!({"error_code": -1, "message": "Phiên làm việc hết hạn"}).to_string())
        .expect(1)
        .create_async()
        .await;
    let ok = server.mock("POST", "/share").with_body(json!({"error_code": 0, "result": []}).to_string()).expect(1).create_async().await;
    assert_eq!(client(&server, 10).list_codes().await.unwrap(), Vec::<String>::new());
    login.assert_async().await;
    expired.assert_async().await;
    ok.assert_async().await;

    // A session refused twice in a row is an error, not a loop.
    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 2).await;
    let always =
        server.mock("POST", "/share").with_body(json!({"error_code": -1, "message": "expired"}).to_string()).expect(2).create_async().await;
    let error = client(&server, 10).list_codes().await.unwrap_err();
    assert_eq!(error, AdapterError::Rejected { code: -1, message: "expired".into() });
    always.assert_async().await;
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 1).await;
    let failing = server.mock("POST", "/share").with_status(503).expect(2).create_async().await;
    let ok = server.mock("POST", "/share").with_body(json!({"error_code": 0, "result": []}).to_string()).expect(1).create_async().await;
    assert!(client(&server, 10).list_codes().await.is_ok());
    failing.assert_async().await;
    ok.assert_async().await;

    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 1).await;
    let down = server.mock("POST", "/share").with_status(500).expect(3).create_async().await;
    assert_eq!(client(&server, 10).list_codes().await.unwrap_err(), AdapterError::ServerError(500));
    down.assert_async().await;

    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 1).await;
    let rejected = server
        .mock("POST", "/share")
        .with_body(json!({"error_code": 5, "message": "Không có quyền"}).to_string())
        .expect(1)
        .create_async()
        .await;
    assert!(matches!(client(&server, 10).list_codes().await, Err(AdapterError::Rejected { code: 5, .. })));
    rejected.assert_async().await;
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_reported() {
    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 1).await;
    let slow = server
        .mock("POST", "/share")
        .with_chunked_body(|w| {
            std::thread::sleep(Duration::from_millis(800));
            w.write_all(b"{}")
        })
        .expect_at_least(1)
        .create_async()
        .await;
    assert_eq!(client(&server, 10).list_codes().await.unwrap_err(), AdapterError::Timeout);
    slow.assert_async().await;

    let mut server = mockito::Server::new_async().await;
    let _login = login_mock(&mut server, "s1", 1).await;
    let _garbage = server.mock("POST", "/share").with_body("<html>Lỗi</html>").create_async().await;
    assert_eq!(client(&server, 10).list_codes().await.unwrap_err(), AdapterError::NotJson { status: 200 });

    let mut server = mockito::Server::new_async().await;
    let _refused =
        server.mock("POST", "/auth").with_body(json!({"error_code": 2, "message": "Sai mật khẩu"}).to_string()).create_async().await;
    assert!(matches!(client(&server, 10).list_codes().await, Err(AdapterError::Auth(_))));
}
