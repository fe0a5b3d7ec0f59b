//! Flags shared by `tls serve` and `tls connect`: stack, credentials (the SVID, alternate
//! SVIDs of other key types, TLCP's encryption pair), protocol policy, authorization rules
//! and engine policy, and their assembly into a [`StackConfig`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use meshtls_tls_core::spiffe::{
    Authorizer, AuthzRule, SpiffeId, Svid, TrustBundleSet, TrustDomain,
};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::sniff::SniffingAcceptor;
use meshtls_tls_core::stack::{
    SmPreference, StackConfig, TlsAcceptor, TlsPolicy, TlsStack, TlsVersion,
};
use meshtls_tls_core::{IdentityStore, Registry, SvidSet};

use crate::backend_args::BackendArgs;
use crate::error::CliError;
use crate::stacks;

/// Everything that configures one side of a mutual-TLS connection.
#[derive(Debug, Args)]
pub(crate) struct TlsArgs {
    /// TLS stack: rustls, openssl, boring, or tlcp (GB/T 38636 TLCP; with --tls-versions
    /// tlcp,1.3 `serve` also answers TLS on the same port through rustls).
    #[arg(long, default_value = "rustls", value_name = "STACK")]
    pub(crate) stack: String,
    /// Our X.509-SVID chain, PEM, leaf first (for tlcp: the SM2 signing certificate, unless
    /// an --alt-cert is the SM2 one).
    #[arg(long, value_name = "CHAIN.pem")]
    cert: PathBuf,
    /// The SVID's private key, PEM (PKCS#8).
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// An alternate SVID of the same SPIFFE ID with another key type, e.g. SM2 beside
    /// ECDSA: used when the peer asks for it (RFC 8998 suites, TLCP). Repeatable; the n-th
    /// --alt-cert goes with the n-th --alt-key.
    #[arg(long = "alt-cert", value_name = "CHAIN.pem", requires = "alt_keys")]
    alt_certs: Vec<PathBuf>,
    /// The private key of the matching --alt-cert, PEM (PKCS#8).
    #[arg(long = "alt-key", value_name = "KEY.pem", requires = "alt_certs")]
    alt_keys: Vec<PathBuf>,
    /// TLCP's encryption certificate (keyEncipherment/keyAgreement, same SPIFFE ID as the
    /// SM2 signing SVID), PEM: required by tlcp servers, and by tlcp clients for ECDHE
    /// suites.
    #[arg(long, value_name = "CERT.pem", requires = "enc_key")]
    enc_cert: Option<PathBuf>,
    /// The encryption certificate's private key, PEM (PKCS#8).
    #[arg(long, value_name = "KEY.pem", requires = "enc_cert")]
    enc_key: Option<PathBuf>,
    /// Trust bundle: PEM CA certificates, each filed under the trust domain of its SPIFFE URI
    /// SAN. Repeat for several trust domains (federation).
    #[arg(long = "bundle", value_name = "CA.pem", required = true)]
    bundles: Vec<PathBuf>,
    /// Allowed cipher suites by IANA name, comma-separated, in preference order
    /// (e.g. TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_SM4_GCM_SM3),
    /// and TLCP suites by their GB/T names (ECDHE_SM4_GCM_SM3, ECC_SM4_GCM_SM3,
    /// ECDHE_SM4_CBC_SM3, ECC_SM4_CBC_SM3). Default: the stack's secure defaults.
    #[arg(long, value_delimiter = ',', value_name = "SUITE,...")]
    suites: Vec<String>,
    /// Allowed key-exchange groups, comma-separated, in preference order
    /// (X25519, secp256r1, secp384r1, X25519MLKEM768, curveSM2). Default: the stack's
    /// defaults. TLCP's ECDHE always uses curveSM2.
    #[arg(long, value_delimiter = ',', value_name = "GROUP,...")]
    groups: Vec<String>,
    /// Allowed versions, comma-separated: 1.2, 1.3, tlcp. The tlcp stack speaks TLCP; `tls
    /// serve --stack tlcp --tls-versions tlcp,1.3` serves TLCP and TLS 1.3 on one port,
    /// choosing by each ClientHello.
    #[arg(long, value_delimiter = ',', default_value = "1.3", value_parser = parse_version, value_name = "VERSION,...")]
    tls_versions: Vec<TlsVersion>,
    /// When a client can do both the SM suites of RFC 8998 and the standard ones:
    /// follow-client (a server takes the client's first choice), prefer-sm or
    /// prefer-standard. To insist on SM alone, list only SM suites in --suites.
    #[arg(long, default_value = "follow-client", value_parser = parse_sm_preference, value_name = "PREFERENCE")]
    sm_preference: SmPreference,
    /// Resume sessions by session ID (tlcp stack; other stacks always run full handshakes).
    /// Off by default: a resumed connection is not re-verified against the current bundles.
    #[arg(long)]
    resumption: bool,
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

/// The stack name whose acceptor may front a TLS stack on the same port.
const TLCP_STACK: &str = "tlcp";

fn parse_version(s: &str) -> Result<TlsVersion, String> {
    TlsVersion::parse(s).ok_or_else(|| format!("unknown TLS version {s:?} (use 1.2, 1.3 or tlcp)"))
}

fn parse_sm_preference(s: &str) -> Result<SmPreference, String> {
    SmPreference::parse(s).ok_or_else(|| {
        format!("unknown SM preference {s:?} (use follow-client, prefer-sm or prefer-standard)")
    })
}

impl TlsArgs {
    /// The chosen stack and its configuration (credentials loaded, provider composed).
    pub(crate) fn build(
        &self,
        registry: &Registry,
    ) -> Result<(&'static dyn TlsStack, StackConfig), CliError> {
        let stack = stacks::find(registry, &self.stack)?;
        let (set, bundles) = self.load_credentials()?;
        let config = StackConfig {
            identity: IdentityStore::with_set(set, bundles),
            authorizer: self.authorizer(),
            policy: self.policy(),
            provider: self.backend.provider(registry)?,
        };
        Ok((stack, config))
    }

    /// The server side: `stack`'s acceptor, or for `--stack tlcp` with TLS versions too, one
    /// acceptor that hands TLCP hellos to the tlcp stack and the others to rustls. Both read
    /// the same identity store, so a reload reaches both.
    pub(crate) fn acceptor(
        &self,
        stack: &'static dyn TlsStack,
        config: &StackConfig,
    ) -> Result<Arc<dyn TlsAcceptor>, CliError> {
        let tls_versions: Vec<TlsVersion> = config
            .policy
            .versions
            .iter()
            .copied()
            .filter(|v| v.is_tls())
            .collect();
        let one_port = stack.name() == TLCP_STACK
            && config.policy.versions.contains(&TlsVersion::Tlcp)
            && !tls_versions.is_empty();
        if !one_port {
            return Ok(stack.acceptor(config)?);
        }
        // IANA names every TLS suite TLS_*; TLCP's GB/T names never start so.
        let (tls_suites, tlcp_suites) = match &config.policy.suites {
            None => (None, None),
            Some(all) => {
                let (tls, tlcp): (Vec<String>, Vec<String>) = all
                    .iter()
                    .cloned()
                    .partition(|s| s.trim().to_ascii_uppercase().starts_with("TLS_"));
                (
                    (!tls.is_empty()).then_some(tls),
                    (!tlcp.is_empty()).then_some(tlcp),
                )
            }
        };
        let tlcp_config = StackConfig {
            policy: TlsPolicy {
                versions: vec![TlsVersion::Tlcp],
                suites: tlcp_suites,
                ..config.policy.clone()
            },
            ..config.clone()
        };
        let tls_config = StackConfig {
            policy: TlsPolicy {
                versions: tls_versions,
                suites: tls_suites,
                ..config.policy.clone()
            },
            ..config.clone()
        };
        Ok(Arc::new(SniffingAcceptor::new(
            stack.acceptor(&tlcp_config)?,
            RUSTLS_STACK.acceptor(&tls_config)?,
        )))
    }

    /// Reads the SVIDs and the bundles from their files (again at each SIGHUP).
    pub(crate) fn load_credentials(&self) -> Result<(SvidSet, TrustBundleSet), CliError> {
        let svid = Svid::from_pem(&read(&self.cert)?, &read(&self.key)?)?;
        if self.alt_certs.len() != self.alt_keys.len() {
            return Err(CliError::Usage(format!(
                "{} --alt-cert but {} --alt-key: give one key per alternate certificate",
                self.alt_certs.len(),
                self.alt_keys.len()
            )));
        }
        let alternates = self
            .alt_certs
            .iter()
            .zip(&self.alt_keys)
            .map(|(cert, key)| Ok(Svid::from_pem(&read(cert)?, &read(key)?)?))
            .collect::<Result<Vec<_>, CliError>>()?;
        let encryption = match (&self.enc_cert, &self.enc_key) {
            (Some(cert), Some(key)) => Some(Svid::encryption_from_pem(&read(cert)?, &read(key)?)?),
            _ => None,
        };
        let mut bundles = TrustBundleSet::new();
        for path in &self.bundles {
            let file = TrustBundleSet::from_pem(&read(path)?)?;
            for td in file.trust_domains() {
                bundles.add(td.clone(), file.roots(td).unwrap_or_default().to_vec());
            }
        }
        let set = SvidSet {
            svid,
            alternates,
            encryption,
        };
        Ok((set, bundles))
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
            sm_preference: self.sm_preference,
            resumption: self.resumption,
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::file(path, e))
}
