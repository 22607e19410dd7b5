//! Agencies and their electronic identifier codes (mã định danh điện tử, Decision 20/2020/QĐ-TTg).

use crate::{ValidationError, role::wire_enum};

wire_enum! {
    /// The level of an agency in the administrative tree.
    AgencyLevel {
        /// Provincial People's Committee (UBND tỉnh).
        Province = "province", "Cấp tỉnh", "Province";
        /// Provincial department or sector (sở, ban, ngành).
        Department = "department", "Sở, ban, ngành", "Department";
        /// District (cấp huyện; abolished from 1 July 2025, kept for history).
        District = "district", "Cấp huyện", "District";
        /// Commune, ward or township (cấp xã).
        Commune = "commune", "Cấp xã", "Commune";
        /// Any other unit (phòng, trung tâm, chi nhánh).
        Unit = "unit", "Đơn vị trực thuộc", "Unit";
    }
}

/// An agency electronic identifier such as `000.00.00.H14` (UBND tỉnh Cao Bằng).
///
/// Format (as observed, domain.md §2.1): three numeric groups of 3, 2 and 2 digits, then a letter
/// and two digits, dot-separated, 13 characters. The letter is upper case (`H` province, `G`
/// ministry or central body, others accepted for future schemes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgencyCode(String);

impl AgencyCode {
    /// Parses and validates a code.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new("code", "must look like `000.00.00.H14`: 3, 2 and 2 digits and a letter with 2 digits, separated by dots")
        };
        let groups: Vec<&str> = value.split('.').collect();
        let [a, b, c, d] = groups.as_slice() else {
            return Err(bad());
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let tail_ok =
            d.len() == 3 && d.as_bytes().first().is_some_and(u8::is_ascii_uppercase) && d.bytes().skip(1).all(|b| b.is_ascii_digit());
        if digits(a, 3) && digits(b, 2) && digits(c, 2) && tail_ok { Ok(Self(value.to_owned())) } else { Err(bad()) }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_parse() {
        for code in ["000.00.00.H14", "000.00.53.H48", "000.00.04.G14", "000.12.34.H14"] {
            assert!(AgencyCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for code in ["", "H14", "000.00.00.h14", "000.00.00.H1", "0000.00.00.H14", "000.00.00.H14.1", "000-00-00-H14", "000.0a.00.H14"] {
            assert!(AgencyCode::parse(code).is_err(), "{code}");
        }
    }
}
