//! `meshtls cert`: make a signing CA, X.509-SVIDs of any key type (SM2 included) and TLCP
//! certificate pairs as PEM files, for people and for tests. The certificates come from
//! `meshtls-ca`, which the CA service will reuse; this module only reads and writes files.

mod ca;
mod files;
mod leaf;

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use crate::error::CliError;

/// The certificate subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Create a self-signed signing CA for a trust domain: DIR/ca.pem and DIR/ca.key.pem.
    Ca(ca::CaArgs),
    /// Issue an X.509-SVID from a CA's files: DIR/svid.pem (leaf, then any intermediate)
    /// and DIR/svid.key.pem.
    Svid(leaf::SvidArgs),
    /// Issue a TLCP (GB/T 38636) SM2 certificate pair from a CA's files: DIR/sign.pem and
    /// DIR/sign.key.pem (digitalSignature), DIR/enc.pem and DIR/enc.key.pem
    /// (keyEncipherment, dataEncipherment, keyAgreement).
    Tlcp(leaf::TlcpArgs),
}

/// Runs a certificate subcommand; prints one JSON line naming what it wrote.
pub(crate) fn run(command: CertCommand) -> Result<ExitCode, CliError> {
    let written = match command {
        CertCommand::Ca(args) => ca::run(&args)?,
        CertCommand::Svid(args) => leaf::run_svid(&args)?,
        CertCommand::Tlcp(args) => leaf::run_tlcp(&args)?,
    };
    written.print()?;
    Ok(ExitCode::SUCCESS)
}

/// Parses a lifetime: a number with a unit `s`, `m`, `h` or `d` (`90d`, `12h`).
fn parse_lifetime(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{s:?}: expected a number and a unit s, m, h or d (e.g. 90d)"
            ))
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?}: {number:?} is not a whole number"))?;
    match n.checked_mul(seconds) {
        Some(0) => Err(format!("{s:?}: a lifetime must be positive")),
        Some(total) => Ok(Duration::from_secs(total)),
        None => Err(format!("{s:?}: too long")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_lifetime("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_lifetime("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_lifetime("30s"), Ok(Duration::from_secs(30)));
        for bad in [
            "",
            "d",
            "10",
            "10w",
            "-1d",
            "0h",
            "1.5d",
            "99999999999999999999d",
        ] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
