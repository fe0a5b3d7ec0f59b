//! What issuing a leaf returns: the chain and key in both PEM and DER, alone or as a TLCP pair.

use std::fmt;

use meshtls_tls_core::error::ConfigError;
use meshtls_tls_core::spiffe::Svid;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

/// An issued X.509-SVID: the chain (leaf first, intermediates after it, the root left out
/// because peers hold it in their bundle) and the leaf's PKCS#8 private key.
pub struct IssuedSvid {
    /// The chain as concatenated PEM `CERTIFICATE` blocks, leaf first.
    pub chain_pem: String,
    /// The private key as a PEM `PRIVATE KEY` (PKCS#8) block.
    pub key_pem: String,
    /// The chain as DER, leaf first.
    pub chain_der: Vec<CertificateDer<'static>>,
    /// The private key as PKCS#8 DER.
    pub key_der: PrivatePkcs8KeyDer<'static>,
}

impl IssuedSvid {
    /// The leaf certificate (`None` only for a hand-built value with an empty chain).
    pub fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.chain_der.first()
    }

    /// Loads the chain and key into tls-core's [`Svid`], which re-checks the leaf rules.
    pub fn to_svid(&self) -> Result<Svid, ConfigError> {
        Svid::from_der(self.chain_der.clone(), self.key_der.clone_key())
    }
}

impl fmt::Debug for IssuedSvid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        f.debug_struct("IssuedSvid")
            .field("chain_der", &self.chain_der)
            .finish_non_exhaustive()
    }
}

/// An issued TLCP (GB/T 38636-2020) certificate pair for one workload: two SM2 keys with
/// their certificates, both carrying the workload's SPIFFE ID.
#[derive(Debug)]
pub struct IssuedTlcpPair {
    /// The signing certificate (keyUsage digitalSignature), chain and key: an ordinary SM2
    /// X.509-SVID.
    pub sign: IssuedSvid,
    /// The encryption certificate (keyUsage keyEncipherment, dataEncipherment,
    /// keyAgreement), chain and key.
    pub enc: IssuedSvid,
}

impl IssuedTlcpPair {
    /// Loads the pair into tls-core: (signing SVID, encryption SVID), each re-checked
    /// ([`Svid::from_der`], [`Svid::encryption_from_der`]); they go in an `SvidSet` as its
    /// `svid` (or an alternate) and its `encryption`.
    pub fn to_svids(&self) -> Result<(Svid, Svid), ConfigError> {
        let sign = self.sign.to_svid()?;
        let enc =
            Svid::encryption_from_der(self.enc.chain_der.clone(), self.enc.key_der.clone_key())?;
        Ok((sign, enc))
    }
}
