//! The benchmarks' in-process PKI: one trust domain, a P-256 CA with ECDSA P-256 SVIDs for
//! the standard rows and an SM2 CA with TLCP certificate pairs for the SM rows, for a server
//! and a client workload. Each row's [`StackConfig`]s hold only the credentials of its kind
//! and only the CA of its family, so every chain a row verifies is signed with that family's
//! algorithm. The SM2 credentials are written out as PEM files for Tongsuo.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use meshtls_ca::{
    CaError, CertificateAuthority, IssuedSvid, IssuedTlcpPair, KeyType, LeafOptions, Validity,
};
use meshtls_tls_core::spiffe::{Authorizer, SpiffeId, TrustBundleSet, TrustDomain};
use meshtls_tls_core::stack::{StackConfig, TlsPolicy};
use meshtls_tls_core::{IdentityStore, SvidSet};
use rustls::crypto::CryptoProvider;

use crate::error::CliError;

/// The in-process trust domain; nothing outside this process trusts it.
const TRUST_DOMAIN: &str = "bench.meshtls.test";
/// Lifetime of the in-process CAs and SVIDs.
const LIFETIME: Duration = Duration::from_secs(3600);

/// The credentials a row's two sides hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Credential {
    /// An ECDSA P-256 SVID from the P-256 CA.
    EcdsaP256,
    /// An SM2 SVID (the TLCP signing certificate) from the SM2 CA.
    Sm2,
    /// A TLCP pair from the SM2 CA: the SM2 signing SVID and the encryption certificate.
    TlcpPair,
}

impl Credential {
    /// The label in tables and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Credential::EcdsaP256 => "ecdsa-p256",
            Credential::Sm2 => "sm2",
            Credential::TlcpPair => "sm2 sign+enc",
        }
    }
}

/// One workload's certificates of every kind.
struct Workload {
    ecdsa: IssuedSvid,
    tlcp: IssuedTlcpPair,
}

/// Both CAs and both workloads.
pub(crate) struct BenchPki {
    trust_domain: TrustDomain,
    p256_ca: CertificateAuthority,
    sm2_ca: CertificateAuthority,
    server: Workload,
    client: Workload,
    server_id: SpiffeId,
}

/// A row's two sides, configured.
pub(crate) struct StackPair {
    /// The server side.
    pub(crate) server: StackConfig,
    /// The client side.
    pub(crate) client: StackConfig,
}

fn ca_error(e: CaError) -> CliError {
    CliError::Usage(format!("issuing bench certificates: {e}"))
}

impl BenchPki {
    /// Issues both CAs and every SVID.
    pub(crate) fn issue() -> Result<BenchPki, CliError> {
        let td = TrustDomain::parse(TRUST_DOMAIN)
            .map_err(|e| CliError::Usage(format!("bench trust domain: {e}")))?;
        let validity = Validity::starting_now(LIFETIME);
        let p256_ca = CertificateAuthority::new(td.clone(), KeyType::EcdsaP256, validity)
            .map_err(ca_error)?;
        let sm2_ca =
            CertificateAuthority::new(td.clone(), KeyType::Sm2, validity).map_err(ca_error)?;
        let workload = |path: &str| -> Result<(Workload, SpiffeId), CliError> {
            let id = SpiffeId::new(td.clone(), path)
                .map_err(|e| CliError::Usage(format!("bench SPIFFE ID: {e}")))?;
            let ecdsa = p256_ca
                .issue_svid(&id, KeyType::EcdsaP256, validity)
                .map_err(ca_error)?;
            let tlcp = sm2_ca
                .issue_tlcp_pair(&id, &LeafOptions::new(KeyType::Sm2, validity))
                .map_err(ca_error)?;
            Ok((Workload { ecdsa, tlcp }, id))
        };
        let (server, server_id) = workload("/bench/server")?;
        let (client, _) = workload("/bench/client")?;
        Ok(BenchPki {
            trust_domain: td,
            p256_ca,
            sm2_ca,
            server,
            client,
            server_id,
        })
    }

    /// The server's SPIFFE ID, which clients expect.
    pub(crate) fn server_id(&self) -> &SpiffeId {
        &self.server_id
    }

    /// Both sides' configurations for `credential` under `policy`.
    pub(crate) fn stack_pair(
        &self,
        credential: Credential,
        policy: &TlsPolicy,
        provider: &Arc<CryptoProvider>,
    ) -> Result<StackPair, CliError> {
        let ca = match credential {
            Credential::EcdsaP256 => &self.p256_ca,
            Credential::Sm2 | Credential::TlcpPair => &self.sm2_ca,
        };
        let config = |workload: &Workload| -> Result<StackConfig, CliError> {
            let set = match credential {
                Credential::EcdsaP256 => SvidSet::single(workload.ecdsa.to_svid()?),
                Credential::Sm2 => SvidSet::single(workload.tlcp.sign.to_svid()?),
                Credential::TlcpPair => {
                    let (sign, enc) = workload.tlcp.to_svids()?;
                    SvidSet {
                        svid: sign,
                        alternates: Vec::new(),
                        encryption: Some(enc),
                    }
                }
            };
            let mut bundles = TrustBundleSet::new();
            bundles.add(self.trust_domain.clone(), vec![ca.ca_der().clone()]);
            Ok(StackConfig {
                identity: IdentityStore::with_set(set, bundles),
                authorizer: Authorizer::any_trusted(),
                policy: policy.clone(),
                provider: provider.clone(),
            })
        };
        Ok(StackPair {
            server: config(&self.server)?,
            client: config(&self.client)?,
        })
    }

    /// Writes the SM2 CA and both TLCP pairs as PEM files under `dir`, named as the Tongsuo
    /// driver expects (`benches/tongsuo/driver.c`): `sm2-ca.pem`, and for WHO in `server` and
    /// `client`: `WHO-sign.pem`/`.key` (the SM2 signing SVID, also the RFC 8998 certificate)
    /// and `WHO-enc.pem`/`.key` (the TLCP encryption pair).
    pub(crate) fn write_sm_pem(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("sm2-ca.pem"), self.sm2_ca.ca_pem())?;
        for (who, workload) in [("server", &self.server), ("client", &self.client)] {
            let tlcp = &workload.tlcp;
            for (name, text) in [
                ("sign.pem", &tlcp.sign.chain_pem),
                ("sign.key", &tlcp.sign.key_pem),
                ("enc.pem", &tlcp.enc.chain_pem),
                ("enc.key", &tlcp.enc.key_pem),
            ] {
                std::fs::write(dir.join(format!("{who}-{name}")), text)?;
            }
        }
        Ok(())
    }
}
