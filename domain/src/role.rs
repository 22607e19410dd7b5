//! Roles of Art. 7 of the Cao Bằng regulation, officer capabilities and integration scopes.

use crate::ValidationError;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal, $vi:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// The label shown to users.
            pub fn label(self) -> $crate::Label {
                match self { $($name::$variant => $crate::Label { vi: $vi, en: $en },)+ }
            }

            /// Parses the wire name; `field` names the input in the error.
            pub fn parse(value: &str, field: &'static str) -> Result<Self, $crate::ValidationError> {
                match value {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::ValidationError::new(field, format!(
                        "unknown value `{}`; expected one of: {}", value,
                        [$($wire),+].join(", ")))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::WireName for $name {
            fn wire_name(self) -> &'static str {
                self.as_str()
            }

            fn from_wire_name(value: &str) -> Option<Self> {
                match value {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// A user's role; exactly one per account.
    Role {
        /// Operator of the whole platform.
        SystemAdmin = "system_admin", "Quản trị hệ thống", "System administrator";
        /// Administrator of one agency subtree.
        AgencyAdmin = "agency_admin", "Quản trị đơn vị", "Agency administrator";
        /// Civil servant handling cases within an agency subtree.
        Officer = "officer", "Cán bộ, công chức", "Officer";
        /// Control officer of the provincial People's Committee office (read-only).
        Supervisor = "supervisor", "Cán bộ kiểm soát", "Supervisor";
        /// Individual or organisation using the portal.
        Citizen = "citizen", "Công dân, tổ chức", "Citizen";
        /// Machine client of a national system.
        Integration = "integration", "Hệ thống tích hợp", "Integration client";
    }
}

wire_enum! {
    /// What an officer may do on cases (Art. 19–20).
    Capability {
        /// Receives cases and issues receipts (tiếp nhận).
        Reception = "reception", "Tiếp nhận hồ sơ", "Reception";
        /// Handles cases (thụ lý).
        Processing = "processing", "Xử lý hồ sơ", "Processing";
        /// Approves and signs results (phê duyệt).
        Approval = "approval", "Phê duyệt", "Approval";
        /// Returns results (trả kết quả).
        ResultReturn = "result_return", "Trả kết quả", "Result return";
    }
}

wire_enum! {
    /// The integration endpoints a machine client is granted.
    IntegrationScope {
        /// Submit cases forwarded by the national portal.
        CasesSubmit = "cases.submit", "Gửi hồ sơ", "Submit cases";
        /// Read cases and their progress.
        CasesRead = "cases.read", "Đọc hồ sơ", "Read cases";
        /// Exchange feedback with the national PAKN system.
        FeedbackSync = "feedback.sync", "Đồng bộ phản ánh, kiến nghị", "Feedback sync";
    }
}

impl Role {
    /// Whether the role belongs to an agency (and must name one).
    pub fn is_agency_bound(self) -> bool {
        matches!(self, Role::AgencyAdmin | Role::Officer)
    }

    /// Whether the role administers accounts.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::AgencyAdmin)
    }

    /// Whether the role is staff of the province (sees cases beyond its own).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::AgencyAdmin | Role::Officer | Role::Supervisor)
    }

    /// Roles an administrator of role `self` may create or grant.
    pub fn may_grant(self, target: Role) -> bool {
        match self {
            Role::SystemAdmin => true,
            Role::AgencyAdmin => matches!(target, Role::AgencyAdmin | Role::Officer),
            _ => false,
        }
    }
}

/// Validates the grant list of a new or edited account against its role: officers take
/// capabilities, integration clients take scopes, every other role takes none.
pub fn validate_grants(role: Role, grants: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(grants.len());
    for grant in grants {
        let canonical = match role {
            Role::Officer => Capability::parse(grant, "capabilities")?.as_str(),
            Role::Integration => IntegrationScope::parse(grant, "capabilities")?.as_str(),
            _ => {
                return Err(ValidationError::new("capabilities", format!("role `{role}` takes no capabilities")));
            }
        };
        if !out.iter().any(|g| g == canonical) {
            out.push(canonical.to_owned());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_wire_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str(), "role"), Ok(*role));
        }
        assert!(Role::parse("root", "role").is_err());
    }

    #[test]
    fn agency_admins_grant_only_inside_their_reach() {
        assert!(Role::AgencyAdmin.may_grant(Role::Officer));
        assert!(!Role::AgencyAdmin.may_grant(Role::SystemAdmin));
        assert!(!Role::AgencyAdmin.may_grant(Role::Supervisor));
        assert!(!Role::Officer.may_grant(Role::Officer));
    }

    #[test]
    fn grants_follow_the_role() {
        let caps = vec!["processing".to_owned(), "reception".to_owned(), "reception".to_owned()];
        assert_eq!(validate_grants(Role::Officer, &caps), Ok(vec!["processing".into(), "reception".into()]));
        assert!(validate_grants(Role::Citizen, &caps).is_err());
        assert!(validate_grants(Role::Officer, &["cases.submit".to_owned()]).is_err());
        assert!(validate_grants(Role::Integration, &["cases.submit".to_owned()]).is_ok());
    }
}
