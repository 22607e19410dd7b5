//! What a stored file really is, decided from its bytes, never from the client's name or
//! declared type (executables and unknown formats are refused).

/// Whether `name` is a stored file's name: the lower-case hex SHA-256 of its content
/// ([`crate::audit::digest`]).
pub fn is_content_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The file formats the platform accepts for documents and form templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    /// Office Open XML or OpenDocument (a ZIP container): .docx, .xlsx, .odt, .ods.
    OfficeZip,
    /// Legacy Office (OLE compound file): .doc, .xls.
    OfficeLegacy,
}

impl FileKind {
    /// The content type to serve the file with.
    pub fn content_type(self, file_name: Option<&str>) -> &'static str {
        let extension = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
        match (self, extension.as_deref()) {
            (FileKind::Pdf, _) => "application/pdf",
            (FileKind::Png, _) => "image/png",
            (FileKind::Jpeg, _) => "image/jpeg",
            (FileKind::OfficeZip, Some("xlsx")) => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (FileKind::OfficeZip, Some("odt")) => "application/vnd.oasis.opendocument.text",
            (FileKind::OfficeZip, Some("ods")) => "application/vnd.oasis.opendocument.spreadsheet",
            (FileKind::OfficeZip, _) => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (FileKind::OfficeLegacy, Some("xls")) => "application/vnd.ms-excel",
            (FileKind::OfficeLegacy, _) => "application/msword",
        }
    }
}

/// The kind of `bytes`, or `None` for anything else (executables, scripts, archives, text).
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some(FileKind::Jpeg)
    } else if bytes.starts_with(b"PK\x03\x04") && is_office_zip(bytes) {
        Some(FileKind::OfficeZip)
    } else if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        Some(FileKind::OfficeLegacy)
    } else {
        None
    }
}

/// A ZIP is an office document when it carries the marker entries of OOXML or ODF, so that
/// an arbitrary archive (which could hold anything) is not accepted as a document.
fn is_office_zip(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    contains(b"[Content_Types].xml") || contains(b"mimetypeapplication/vnd.oasis.opendocument")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
        assert_eq!(sniff(b"PK\x03\x04....[Content_Types].xml...."), Some(FileKind::OfficeZip));
        assert_eq!(sniff(b"PK\x03\x04....evil.exe...."), None);
        assert_eq!(sniff(b"MZ\x90\x00 executable"), None);
        assert_eq!(sniff(b"\x7fELF"), None);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(
            FileKind::OfficeZip.content_type(Some("to-khai.XLSX")),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(FileKind::OfficeLegacy.content_type(None), "application/msword");
    }
}
