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
        self.check()?;
        Ok((self.not_before.into(), self.not_after.into()))
    }

    /// The window as x509-cert's type, rejecting empty windows. Like rcgen, times before
    /// 2050 are UTCTime and later ones GeneralizedTime (RFC 5280 section 4.1.2.5), whole
    /// seconds.
    pub(crate) fn to_x509(self) -> Result<x509_cert::time::Validity, CaError> {
        self.check()?;
        Ok(x509_cert::time::Validity {
            not_before: x509_time(self.not_before)?,
            not_after: x509_time(self.not_after)?,
        })
    }

    fn check(self) -> Result<(), CaError> {
        if self.not_after <= self.not_before {
            return Err(CaError::EmptyValidity);
        }
        Ok(())
    }
}

/// One instant as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime after.
fn x509_time(t: SystemTime) -> Result<x509_cert::time::Time, CaError> {
    use der::asn1::{GeneralizedTime, UtcTime};
    match UtcTime::from_system_time(t) {
        Ok(utc) => Ok(utc.into()),
        Err(_) => Ok(GeneralizedTime::from_system_time(t)?.into()),
    }
}
