//! `meshtls cert ca`: a new self-signed signing CA.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;
use meshtls_ca::{CertificateAuthority, KeyType, Validity};
use meshtls_tls_core::spiffe::TrustDomain;

use super::files::{OutDir, Written};
use super::parse_lifetime;
use crate::error::CliError;

/// Options of `meshtls cert ca`.
#[derive(Debug, Args)]
pub(crate) struct CaArgs {
    /// The trust domain the CA signs for (its certificate's URI SAN is spiffe://<it>).
    #[arg(long, value_name = "DOMAIN")]
    trust_domain: TrustDomain,
    /// Key type: ecdsa-p256, ecdsa-p384, ed25519, rsa-2048 or sm2 (signs with SM2-with-SM3).
    #[arg(long, default_value = "ecdsa-p256", value_name = "TYPE")]
    key_type: KeyType,
    /// How long the CA is valid: a number and a unit s, m, h or d.
    #[arg(long, visible_alias = "lifetime", default_value = "365d", value_parser = parse_lifetime, value_name = "DURATION")]
    validity: Duration,
    /// Directory for ca.pem and ca.key.pem (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

/// Creates the CA and writes its files.
pub(super) fn run(args: &CaArgs) -> Result<Written, CliError> {
    let out = OutDir::check(&args.out, args.force, &["ca.pem", "ca.key.pem"])?;
    let validity = Validity::starting_now(args.validity);
    let ca = CertificateAuthority::new(args.trust_domain.clone(), args.key_type, validity)
        .map_err(|e| CliError::Usage(format!("creating the CA: {e}")))?;
    let files = vec![
        out.cert("ca.pem", ca.cert_pem())?,
        out.key("ca.key.pem", &ca.key_pem())?,
    ];
    Ok(Written {
        id: args.trust_domain.id().to_string(),
        key_type: args.key_type.to_string(),
        not_after: unix_seconds(validity),
        files,
    })
}

/// `validity.not_after` in seconds since the Unix epoch.
pub(super) fn unix_seconds(validity: Validity) -> u64 {
    validity
        .not_after
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
