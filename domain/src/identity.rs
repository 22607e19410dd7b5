//! Account and personal identifiers, parsed rather than validated.
//!
//! Personal data (id numbers, phones, e-mails) redact themselves in `Debug` so that a stray
//! `{:?}` never writes them to a log.

use crate::ValidationError;
use crate::role::wire_enum;

wire_enum! {
    /// Who applies (LoaiDoiTuong; DVCQG codes 1–4).
    ApplicantKind {
        /// 1 Công dân.
        Citizen = "citizen", "Công dân", "Citizen";
        /// 2 Doanh nghiệp.
        Enterprise = "enterprise", "Doanh nghiệp", "Enterprise";
        /// 3 Cơ quan nhà nước.
        Agency = "agency", "Cơ quan nhà nước", "State agency";
        /// 4 Tổ chức, khác.
        Organisation = "organisation", "Tổ chức", "Organisation";
    }
}

wire_enum! {
    /// The kind of identity document of an applicant (LoaiGiayTo, domain.md §2.4).
    IdType {
        /// The 12-digit personal identification number (CCCD).
        Cccd = "cccd", "Căn cước công dân", "Citizen identity card";
        /// The old 9-digit identity card (CMND).
        Cmnd = "cmnd", "Chứng minh nhân dân", "Old identity card";
        /// An organisation's tax code (10 digits, or 13 for a branch).
        TaxCode = "tax_code", "Mã số thuế", "Tax code";
        Passport = "passport", "Hộ chiếu", "Passport";
        Other = "other", "Giấy tờ khác", "Other document";
    }
}

impl IdType {
    /// Checks `number` against the document kind.
    ///
    /// # Errors
    /// When the number cannot be one of this kind.
    pub fn check(self, number: &str) -> Result<(), ValidationError> {
        let number = number.trim();
        let digits = |s: &str, lengths: &[usize]| lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match self {
            IdType::Cccd => PersonalIdNumber::parse(number).is_ok(),
            IdType::Cmnd => digits(number, &[9]),
            IdType::TaxCode => digits(&number.replace('-', ""), &[10, 13]),
            IdType::Passport | IdType::Other => (1..=50).contains(&number.len()),
        };
        if ok { Ok(()) } else { Err(ValidationError::new("id_number", format!("is not a valid {self} number"))) }
    }
}

/// A login name: 3–64 characters of `a-z`, `0-9`, `.`, `_`, `-`, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a user name, folding ASCII upper case to lower case.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let lower = value.trim().to_ascii_lowercase();
        let ok_chars = lower.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if !(3..=64).contains(&lower.len()) || !ok_chars {
            return Err(ValidationError::new("username", "must be 3 to 64 characters of letters a-z, digits, '.', '_' or '-'"));
        }
        Ok(Self(lower))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password that meets the policy: 10–128 characters with at least one letter and one digit.
pub struct Password(String);

impl Password {
    /// Checks the policy; `field` names the input in the error.
    pub fn parse(value: &str, field: &'static str) -> Result<Self, ValidationError> {
        let length = value.chars().count();
        if !(10..=128).contains(&length) {
            return Err(ValidationError::new(field, "must be 10 to 128 characters long"));
        }
        if !value.chars().any(char::is_alphabetic) || !value.chars().any(|c| c.is_ascii_digit()) {
            return Err(ValidationError::new(field, "must contain at least one letter and one digit"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The secret, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The 12-digit personal identification number (số định danh cá nhân, CCCD).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalIdNumber(String);

impl PersonalIdNumber {
    /// Parses exactly 12 ASCII digits.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new("id_number", "must be exactly 12 digits"))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PersonalIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalIdNumber(***)")
    }
}

/// A Vietnamese phone number, normalised to the national form `0XXXXXXXXX` (10 digits).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts `0912345678`, `+84912345678` and `84912345678`, with spaces, dots or dashes.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else if let Some(rest) = compact.strip_prefix("84").filter(|r| r.len() == 9) {
            format!("0{rest}")
        } else {
            compact
        };
        let ok = national.len() == 10
            && national.starts_with('0')
            && !national.starts_with("00")
            && national.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(national))
        } else {
            Err(ValidationError::new("phone", "must be a Vietnamese phone number such as 0912345678 or +84912345678"))
        }
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Phone(***)")
    }
}

/// An e-mail address, checked for shape only (delivery proves the rest).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses `local@domain.tld`, at most 254 characters, without white space.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let bad = || ValidationError::new("email", "must be an e-mail address such as name@example.vn");
        if value.len() > 254 || value.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        let domain_ok =
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains("..") && !domain.contains('@');
        if local.is_empty() || !domain_ok {
            return Err(bad());
        }
        Ok(Self(value.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_follow_their_document_kind() {
        assert!(IdType::Cccd.check("004099012345").is_ok());
        assert!(IdType::Cccd.check("123").is_err());
        assert!(IdType::Cmnd.check("123456789").is_ok());
        assert!(IdType::TaxCode.check("0101234567-001").is_ok());
        assert!(IdType::TaxCode.check("12345").is_err());
        assert!(IdType::Passport.check("").is_err());
        assert!(ApplicantKind::parse("robot", "kind").is_err());
    }

    #[test]
    fn id_numbers_have_twelve_digits() {
        assert!(PersonalIdNumber::parse("001099012345").is_ok());
        for bad in ["", "00109901234", "0010990123456", "00109901234a", "001 99012345"] {
            assert!(PersonalIdNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_normalise_to_the_national_form() {
        for (input, want) in [
            ("0912345678", "0912345678"),
            ("+84 912 345 678", "0912345678"),
            ("84912345678", "0912345678"),
            ("0206.3852.123", "02063852123"),
        ] {
            match Phone::parse(input) {
                Ok(p) => assert_eq!(p.as_str(), want, "{input}"),
                Err(_) if want.len() != 10 => {}
                Err(e) => panic!("{input}: {e}"),
            }
        }
        for bad in ["", "12345", "0012345678", "09123456789", "+1 202 555 0100", "09123abc78"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(Email::parse("nguyen.van.a@caobang.gov.vn").is_ok());
        for bad in ["", "a@b", "@b.vn", "a b@c.vn", "a@.vn", "a@b..vn", "a@b@c.vn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_fold_to_lower_case() {
        assert_eq!(Username::parse("Admin").map(Username::into_inner), Ok("admin".to_owned()));
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("có dấu").is_err());
    }

    #[test]
    fn passwords_need_length_letters_and_digits() {
        assert!(Password::parse("correct horse 1", "password").is_ok());
        assert!(Password::parse("short1", "password").is_err());
        assert!(Password::parse("onlyletterslong", "password").is_err());
        assert!(Password::parse("12345678901", "password").is_err());
        assert_eq!(format!("{:?}", Password::parse("correct horse 1", "p").ok()), "Some(Password(***))");
    }

    #[test]
    fn personal_data_is_redacted_in_debug() {
        let id = PersonalIdNumber::parse("001099012345").ok();
        assert!(!format!("{id:?}").contains("0010"));
    }
}
