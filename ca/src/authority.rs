//! A SPIFFE signing CA (root or intermediate) and the certificates it issues.

use std::fmt;

use meshtls_tls_core::spiffe::{SpiffeId, TrustDomain};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use crate::error::CaError;
use crate::issued::IssuedSvid;
use crate::key::KeyType;
use crate::serial::random_serial;
use crate::validity::Validity;

/// How to issue a leaf SVID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafOptions {
    /// The leaf's key type.
    pub key_type: KeyType,
    /// The leaf's validity window.
    pub validity: Validity,
    /// Extra DNS SANs beside the SPIFFE URI SAN (for clients that check host names, such as
    /// curl); empty for pure SPIFFE peers.
    pub dns_names: Vec<String>,
}

impl LeafOptions {
    /// A plain SVID: no DNS SANs.
    pub fn new(key_type: KeyType, validity: Validity) -> LeafOptions {
        LeafOptions {
            key_type,
            validity,
            dns_names: Vec::new(),
        }
    }
}

/// One certificate in both encodings.
#[derive(Clone, Debug)]
struct Cert {
    der: CertificateDer<'static>,
    pem: String,
}

impl Cert {
    fn from_rcgen(cert: &rcgen::Certificate) -> Cert {
        Cert {
            der: cert.der().clone(),
            pem: cert.pem(),
        }
    }
}

/// A signing CA for one trust domain: a self-signed root ([`CertificateAuthority::new`]) or an
/// intermediate beneath one ([`CertificateAuthority::issue_intermediate`]).
pub struct CertificateAuthority {
    trust_domain: TrustDomain,
    key_type: KeyType,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    key_der: PrivatePkcs8KeyDer<'static>,
    /// This CA's certificate first, then each issuer's up to and including the root.
    path: Vec<Cert>,
}

impl CertificateAuthority {
    /// Creates a self-signed signing CA for `trust_domain`: `cA=true`, critical keyUsage
    /// keyCertSign + cRLSign, URI SAN `spiffe://<trust_domain>`.
    pub fn new(
        trust_domain: TrustDomain,
        key_type: KeyType,
        validity: Validity,
    ) -> Result<CertificateAuthority, CaError> {
        let (key, key_der) = key_type.generate()?;
        let params = ca_params(
            &trust_domain,
            validity,
            BasicConstraints::Unconstrained,
            "root",
        )?;
        let cert = params.self_signed(&key)?;
        Ok(CertificateAuthority {
            trust_domain,
            key_type,
            issuer: rcgen::Issuer::new(params, key),
            key_der,
            path: vec![Cert::from_rcgen(&cert)],
        })
    }

    /// Issues an intermediate signing CA of the same trust domain beneath this one. It may
    /// issue leaves only (pathLenConstraint 0); leaves it issues carry it in their chain.
    pub fn issue_intermediate(
        &self,
        key_type: KeyType,
        validity: Validity,
    ) -> Result<CertificateAuthority, CaError> {
        let (key, key_der) = key_type.generate()?;
        let params = ca_params(
            &self.trust_domain,
            validity,
            BasicConstraints::Constrained(0),
            "intermediate",
        )?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let mut path = vec![Cert::from_rcgen(&cert)];
        path.extend(self.path.iter().cloned());
        Ok(CertificateAuthority {
            trust_domain: self.trust_domain.clone(),
            key_type,
            issuer: rcgen::Issuer::new(params, key),
            key_der,
            path,
        })
    }

    /// Issues a leaf X.509-SVID for `id` with no extra SANs.
    pub fn issue_svid(
        &self,
        id: &SpiffeId,
        key_type: KeyType,
        validity: Validity,
    ) -> Result<IssuedSvid, CaError> {
        self.issue_svid_with(id, &LeafOptions::new(key_type, validity))
    }

    /// Issues a leaf X.509-SVID for `id`: exactly one URI SAN (plus `options.dns_names`),
    /// `cA=false`, critical keyUsage digitalSignature (+ keyEncipherment for RSA), EKU
    /// serverAuth + clientAuth, a random serial.
    pub fn issue_svid_with(
        &self,
        id: &SpiffeId,
        options: &LeafOptions,
    ) -> Result<IssuedSvid, CaError> {
        if !id.is_workload() {
            return Err(CaError::NotWorkloadId(id.clone()));
        }
        if id.trust_domain() != &self.trust_domain {
            return Err(CaError::ForeignTrustDomain {
                id: id.clone(),
                ca: self.trust_domain.clone(),
            });
        }
        let params = leaf_params(id, options)?;
        self.sign_custom(params, options.key_type)
    }

    /// Signs arbitrary certificate parameters with a fresh key of `key_type`, checking no
    /// SPIFFE rule. Meant for tests that need non-conforming certificates (two URI SANs, a CA
    /// flag on a leaf) from a real issuer.
    pub fn sign_custom(
        &self,
        params: CertificateParams,
        key_type: KeyType,
    ) -> Result<IssuedSvid, CaError> {
        let (key, key_der) = key_type.generate()?;
        let leaf = Cert::from_rcgen(&params.signed_by(&key, &self.issuer)?);
        let intermediates = &self.path[..self.path.len() - 1];
        let chain: Vec<&Cert> = std::iter::once(&leaf).chain(intermediates).collect();
        Ok(IssuedSvid {
            chain_pem: chain.iter().map(|c| c.pem.as_str()).collect(),
            key_pem: key.serialize_pem(),
            chain_der: chain.iter().map(|c| c.der.clone()).collect(),
            key_der,
        })
    }

    /// The trust domain this CA signs for.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// This CA's key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The trust anchor peers put in their bundle: this CA's root (itself for a root CA).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.root().der
    }

    /// [`CertificateAuthority::ca_der`] as PEM.
    pub fn ca_pem(&self) -> &str {
        &self.root().pem
    }

    /// This CA's own certificate (differs from [`CertificateAuthority::ca_der`] for an
    /// intermediate).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.path[0].der
    }

    /// [`CertificateAuthority::cert_der`] as PEM.
    pub fn cert_pem(&self) -> &str {
        &self.path[0].pem
    }

    /// This CA's PKCS#8 private key, for persisting it.
    pub fn key_der(&self) -> &PrivatePkcs8KeyDer<'static> {
        &self.key_der
    }

    /// [`CertificateAuthority::key_der`] as a PEM `PRIVATE KEY` block.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    fn root(&self) -> &Cert {
        // `path` always holds at least this CA's own certificate.
        &self.path[self.path.len() - 1]
    }
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("trust_domain", &self.trust_domain)
            .field("key_type", &self.key_type)
            .field("depth", &self.path.len())
            .finish_non_exhaustive()
    }
}

/// Parameters of a SPIFFE signing CA.
fn ca_params(
    trust_domain: &TrustDomain,
    validity: Validity,
    constraints: BasicConstraints,
    role: &str,
) -> Result<CertificateParams, CaError> {
    let (not_before, not_after) = validity.to_rcgen()?;
    let serial = random_serial()?;
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "meshtls");
    // The serial in the CN keeps subjects unique across CA rotations, so that stacks which
    // build paths by issuer name never confuse an old CA with its successor.
    name.push(
        DnType::CommonName,
        format!("meshtls {role} CA {trust_domain} {serial}"),
    );
    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(serial);
    params.distinguished_name = name;
    params.subject_alt_names = vec![uri_san(&trust_domain.id())?];
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// Parameters of a leaf X.509-SVID.
fn leaf_params(id: &SpiffeId, options: &LeafOptions) -> Result<CertificateParams, CaError> {
    let (not_before, not_after) = options.validity.to_rcgen()?;
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "meshtls");
    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    params.distinguished_name = name;
    params.subject_alt_names = vec![uri_san(id)?];
    for dns in &options.dns_names {
        params
            .subject_alt_names
            .push(SanType::DnsName(dns.as_str().try_into()?));
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = match options.key_type {
        KeyType::Rsa2048 => vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::Ed25519 => {
            vec![KeyUsagePurpose::DigitalSignature]
        }
    };
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// A URI SAN holding a SPIFFE ID.
pub(crate) fn uri_san(id: &SpiffeId) -> Result<SanType, CaError> {
    Ok(SanType::URI(id.to_string().try_into()?))
}

#[cfg(test)]
mod tests;
