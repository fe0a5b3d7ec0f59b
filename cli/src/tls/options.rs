//! Flags shared by `tls serve` and `tls connect`: stack, credentials, protocol policy,
//! authorization rules and engine policy, and their assembly into a [`StackConfig`].

use std::path::{Path, PathBuf};

use clap::Args;
use meshtls_tls_core::spiffe::{
    Authorizer, AuthzRule, SpiffeId, Svid, TrustBundleSet, TrustDomain,
};
use meshtls_tls_core::stack::{StackConfig, TlsPolicy, TlsStack, TlsVersion};
use meshtls_tls_core::{IdentityStore, Registry};

use crate::backend_args::BackendArgs;
use crate::error::CliError;
use crate::stacks;

/// Everything that configures one side of a mutual-TLS connection.
#[derive(Debug, Args)]
pub(crate) struct TlsArgs {
    /// TLS stack: rustls, openssl or boring.
    #[arg(long, default_value = "rustls", value_name = "STACK")]
    pub(crate) stack: String,
    /// Our X.509-SVID chain, PEM, leaf first.
    #[arg(long, value_name = "CHAIN.pem")]
    cert: PathBuf,
    /// The SVID's private key, PEM (PKCS#8).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// Trust bundle: PEM CA certificates, each filed under the trust domain of its SPIFFE URI
    /// SAN. Repeat for several trust domains (federation).
    #[arg(long = "bundle", value_name = "CA.pem", required = true)]
    bundles: Vec<PathBuf>,
    /// Allowed cipher suites by IANA name, comma-separated, in preference order
    /// (e.g. TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256). Default: the
    /// stack's secure defaults.
    #[arg(long, value_delimiter = ',', value_name = "SUITE,...")]
    suites: Vec<String>,
    /// Allowed key-exchange groups, comma-separated, in preference order
    /// (X25519, secp256r1, secp384r1, X25519MLKEM768). Default: the stack's defaults.
    #[arg(long, value_delimiter = ',', value_name = "GROUP,...")]
    groups: Vec<String>,
    /// Allowed TLS versions, comma-separated: 1.2, 1.3.
    #[arg(long, value_delimiter = ',', default_value = "1.3", value_parser = parse_version, value_name = "VERSION,...")]
    tls_versions: Vec<TlsVersion>,
    /// Allow the peer with exactly this SPIFFE ID (repeatable). With no --allow-* flag, every
    /// peer our bundles authenticate is allowed.
    #[arg(long = "allow-id", value_name = "SPIFFE_ID")]
    allow_ids: Vec<SpiffeId>,
    /// Allow any workload of this trust domain (repeatable), e.g. example.org.
    #[arg(long = "allow-td", value_name = "TRUST_DOMAIN")]
    allow_tds: Vec<TrustDomain>,
    /// Allow IDs under this path prefix at a segment boundary (repeatable):
    /// spiffe://example.org/ns/prod allows .../ns/prod/sa/web, not .../ns/production.
    #[arg(long = "allow-prefix", value_name = "SPIFFE_ID")]
    allow_prefixes: Vec<SpiffeId>,
    #[command(flatten)]
    backend: BackendArgs,
}

fn parse_version(s: &str) -> Result<TlsVersion, String> {
    TlsVersion::parse(s).ok_or_else(|| format!("unknown TLS version {s:?} (use 1.2 or 1.3)"))
}

impl TlsArgs {
    /// The chosen stack and its configuration (credentials loaded, provider composed).
    pub(crate) fn build(
        &self,
        registry: &Registry,
    ) -> Result<(&'static dyn TlsStack, StackConfig), CliError> {
        let stack = stacks::find(registry, &self.stack)?;
        let (svid, bundles) = self.load_credentials()?;
        let config = StackConfig {
            identity: IdentityStore::new(svid, bundles),
            authorizer: self.authorizer(),
            policy: self.policy(),
            provider: self.backend.provider(registry)?,
        };
        Ok((stack, config))
    }

    /// Reads the SVID and the bundles from their files (again at each SIGHUP).
    pub(crate) fn load_credentials(&self) -> Result<(Svid, TrustBundleSet), CliError> {
        let svid = Svid::from_pem(&read(&self.cert)?, &read(&self.key)?)?;
        let mut bundles = TrustBundleSet::new();
        for path in &self.bundles {
            let file = TrustBundleSet::from_pem(&read(path)?)?;
            for td in file.trust_domains() {
                bundles.add(td.clone(), file.roots(td).unwrap_or_default().to_vec());
            }
        }
        Ok((svid, bundles))
    }

    fn authorizer(&self) -> Authorizer {
        let rules = self
            .allow_ids
            .iter()
            .cloned()
            .map(AuthzRule::Exact)
            .chain(self.allow_tds.iter().cloned().map(AuthzRule::TrustDomain))
            .chain(
                self.allow_prefixes
                    .iter()
                    .cloned()
                    .map(AuthzRule::PathPrefix),
            )
            .collect();
        Authorizer::new(rules)
    }

    fn policy(&self) -> TlsPolicy {
        let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        TlsPolicy {
            versions: self.tls_versions.clone(),
            suites: non_empty(&self.suites),
            groups: non_empty(&self.groups),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::file(path, e))
}
