//! What an operator may do on the admin listener (`role:` of an entry in `operators:` of
//! `server.yaml`). Here, below both, because the configuration reads it and the admin
//! listener enforces it. Roles are ordered: a `publisher` may do all a `viewer` may, an
//! `admin` all a `publisher` may.

use serde::Serialize;

/// What an operator may do (`role:` of an entry in `operators:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads what it may see: the dashboard, `/status`, the lists and exports.
    Viewer,
    /// A viewer who also uploads, publishes, withdraws, pauses and resumes, and reads
    /// `/audit`.
    Publisher,
    /// Everything, including `POST /reload`.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Publisher, Role::Admin];

    /// The name as written in `server.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    /// `viewer`, `publisher` or `admin`, as written in `server.yaml` (exact, lower case).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_and_nothing_else_parses() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        for wrong in ["Admin", "root", "", "viewer "] {
            assert_eq!(Role::parse(wrong), None, "{wrong:?}");
        }
        assert!(Role::Viewer < Role::Publisher && Role::Publisher < Role::Admin);
    }
}
