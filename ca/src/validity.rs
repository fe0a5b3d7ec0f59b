//! Certificate validity windows.

use std::time::{Duration, SystemTime};

use crate::error::CaError;

/// How far [`Validity::starting_at`] backdates `not_before`, so that peers whose clocks run
/// slightly behind ours accept a freshly issued certificate.
pub const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// When a certificate is valid. Fields are public so tests can build expired or
/// not-yet-valid windows directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// First instant of validity.
    pub not_before: SystemTime,
    /// Last instant of validity.
    pub not_after: SystemTime,
}

impl Validity {
    /// Valid from [`BACKDATE`] before `now` until `now + lifetime`.
    pub fn starting_at(now: SystemTime, lifetime: Duration) -> Validity {
        Validity {
            not_before: now.checked_sub(BACKDATE).unwrap_or(now),
            not_after: now + lifetime,
        }
    }

    /// [`Validity::starting_at`] the current system time.
    pub fn starting_now(lifetime: Duration) -> Validity {
        Validity::starting_at(SystemTime::now(), lifetime)
    }

    /// The window as rcgen's time type, rejecting empty windows.
    pub(crate) fn to_rcgen(self) -> Result<(time::OffsetDateTime, time::OffsetDateTime), CaError> {
        if self.not_after <= self.not_before {
            return Err(CaError::EmptyValidity);
        }
        Ok((self.not_before.into(), self.not_after.into()))
    }
}
