//! `meshtls cert svid` and `meshtls cert tlcp`: leaves issued by a CA loaded from its files.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use meshtls_ca::{CertificateAuthority, KeyType, LeafOptions, Validity};
use meshtls_tls_core::spiffe::SpiffeId;

use super::ca::unix_seconds;
use super::files::{load_ca, OutDir, Written};
use super::parse_lifetime;
use crate::error::CliError;

/// What every leaf needs: the issuing CA, the workload's ID, lifetime and output.
#[derive(Debug, Args)]
pub(crate) struct LeafArgs {
    /// The CA's certificate, PEM; an intermediate's file continues with its issuers.
    #[arg(long, value_name = "CA.pem")]
    ca_cert: PathBuf,
    /// The CA's private key, PEM (PKCS#8).
    #[arg(long, value_name = "CA.key.pem")]
    ca_key: PathBuf,
    /// The workload's SPIFFE ID, in the CA's trust domain (spiffe://example.org/ns/a/sa/b).
    #[arg(long, value_name = "SPIFFE_ID")]
    id: SpiffeId,
    /// Extra DNS SANs beside the SPIFFE ID (repeatable), for clients that check host names.
    #[arg(long = "dns", value_name = "NAME")]
    dns_names: Vec<String>,
    /// How long the certificates are valid: a number and a unit s, m, h or d.
    #[arg(long, visible_alias = "lifetime", default_value = "30d", value_parser = parse_lifetime, value_name = "DURATION")]
    validity: Duration,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

impl LeafArgs {
    fn options(&self, key_type: KeyType) -> LeafOptions {
        let mut options = LeafOptions::new(key_type, Validity::starting_now(self.validity));
        options.dns_names = self.dns_names.clone();
        options
    }

    fn load(&self, names: &[&str]) -> Result<(CertificateAuthority, OutDir<'_>), CliError> {
        let ca = load_ca(&self.ca_cert, &self.ca_key)?;
        let out = OutDir::check(&self.out, self.force, names)?;
        Ok((ca, out))
    }
}

/// Options of `meshtls cert svid`.
#[derive(Debug, Args)]
pub(crate) struct SvidArgs {
    /// Key type: ecdsa-p256, ecdsa-p384, ed25519, rsa-2048 or sm2.
    #[arg(long, default_value = "ecdsa-p256", value_name = "TYPE")]
    key_type: KeyType,
    #[command(flatten)]
    leaf: LeafArgs,
}

/// Options of `meshtls cert tlcp` (the keys are SM2).
#[derive(Debug, Args)]
pub(crate) struct TlcpArgs {
    #[command(flatten)]
    leaf: LeafArgs,
}

/// Issues an SVID and writes svid.pem and svid.key.pem.
pub(super) fn run_svid(args: &SvidArgs) -> Result<Written, CliError> {
    let (ca, out) = args.leaf.load(&["svid.pem", "svid.key.pem"])?;
    let options = args.leaf.options(args.key_type);
    let svid = ca
        .issue_svid_with(&args.leaf.id, &options)
        .map_err(|e| CliError::Usage(format!("issuing {}: {e}", args.leaf.id)))?;
    let files = vec![
        out.cert("svid.pem", &svid.chain_pem)?,
        out.key("svid.key.pem", &svid.key_pem)?,
    ];
    Ok(written(&args.leaf, &options, files))
}

/// Issues a TLCP pair and writes sign.pem, sign.key.pem, enc.pem and enc.key.pem.
pub(super) fn run_tlcp(args: &TlcpArgs) -> Result<Written, CliError> {
    let names = ["sign.pem", "sign.key.pem", "enc.pem", "enc.key.pem"];
    let (ca, out) = args.leaf.load(&names)?;
    let options = args.leaf.options(KeyType::Sm2);
    let pair = ca
        .issue_tlcp_pair(&args.leaf.id, &options)
        .map_err(|e| CliError::Usage(format!("issuing a TLCP pair for {}: {e}", args.leaf.id)))?;
    let files = vec![
        out.cert("sign.pem", &pair.sign.chain_pem)?,
        out.key("sign.key.pem", &pair.sign.key_pem)?,
        out.cert("enc.pem", &pair.enc.chain_pem)?,
        out.key("enc.key.pem", &pair.enc.key_pem)?,
    ];
    Ok(written(&args.leaf, &options, files))
}

fn written(leaf: &LeafArgs, options: &LeafOptions, files: Vec<PathBuf>) -> Written {
    Written {
        id: leaf.id.to_string(),
        key_type: options.key_type.to_string(),
        not_after: unix_seconds(options.validity),
        files,
    }
}
