//! A SPIFFE signing CA (root or intermediate) and the certificates it issues.
//!
//! rcgen builds every certificate that involves no SM2 key; [`x509`] builds the others with
//! the same profile (rcgen can neither sign with nor certify SM2 keys).

use std::fmt;

use meshtls_tls_core::spiffe::{SpiffeId, TrustDomain};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use x509_cert::name::Name;

use crate::error::CaError;
use crate::issued::{IssuedSvid, IssuedTlcpPair};
use crate::key::{pkcs8_pem, Key, KeyPair, KeyType};
use crate::load::LoadError;
use crate::serial::{random_serial, random_serial_bytes};
use crate::validity::Validity;
use crate::x509::{self, SignWith};

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
pub(crate) struct Cert {
    pub(crate) der: CertificateDer<'static>,
    pub(crate) pem: String,
}

impl Cert {
    fn from_rcgen(cert: &rcgen::Certificate) -> Cert {
        Cert {
            der: cert.der().clone(),
            pem: cert.pem(),
        }
    }

    /// From DER, adding the PEM form.
    pub(crate) fn from_der(der: CertificateDer<'static>) -> Result<Cert, CaError> {
        let pem = x509::to_pem("CERTIFICATE", &der)?;
        Ok(Cert { der, pem })
    }
}

/// What signs for a CA.
pub(crate) enum Signer {
    /// An ECDSA, Ed25519 or RSA key: rcgen issues what this key certifies unless an SM2 key
    /// is involved, then [`x509`] signs with the same key pair.
    Rcgen(rcgen::Issuer<'static, rcgen::KeyPair>),
    /// An SM2 key: every certificate goes through [`x509`].
    Sm2(sm2::SecretKey),
}

impl Signer {
    /// For a CA certificate `cert` just issued for `key`.
    pub(crate) fn for_ca_cert(cert: &CertificateDer<'_>, key: KeyPair) -> Result<Signer, CaError> {
        Ok(match key {
            KeyPair::Rcgen(pair) => Signer::Rcgen(rcgen::Issuer::from_ca_cert_der(cert, pair)?),
            KeyPair::Sm2(key) => Signer::Sm2(key),
        })
    }
}

/// A signing CA for one trust domain: a self-signed root ([`CertificateAuthority::new`]), an
/// intermediate beneath one ([`CertificateAuthority::issue_intermediate`]), or one loaded from
/// its files ([`CertificateAuthority::from_pem`]).
///
/// Every key type signs and is certified by every other: SM2 CAs sign with SM2-with-SM3 and
/// may issue SVIDs of any key type, and any CA may issue SM2 SVIDs and TLCP pairs.
pub struct CertificateAuthority {
    trust_domain: TrustDomain,
    key_type: KeyType,
    signer: Signer,
    key_der: PrivatePkcs8KeyDer<'static>,
    key_pem: String,
    /// This CA's subject, the issuer name of what it signs on the [`x509`] path.
    name: Name,
    /// This CA's subject key ID, the authority key ID of what it signs.
    key_id: Vec<u8>,
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
        let key = key_type.generate()?;
        let (cert, signer) = match key.pair {
            KeyPair::Rcgen(pair) => {
                let params = ca_params(
                    &trust_domain,
                    validity,
                    BasicConstraints::Unconstrained,
                    "root",
                )?;
                let cert = Cert::from_rcgen(&params.self_signed(&pair)?);
                (cert, Signer::Rcgen(rcgen::Issuer::new(params, pair)))
            }
            KeyPair::Sm2(secret) => {
                let pair = KeyPair::Sm2(secret);
                let spki = pair.spki_der()?;
                let serial = random_serial_bytes()?;
                let template = ca_template(&trust_domain, validity, None, "root", &spki, &serial)?;
                let issuer = x509::Issuer {
                    name: &template.subject,
                    key_id: &x509::key_id(&spki),
                    key: SignWith::from_pair(&pair, key_type),
                };
                let cert = Cert::from_der(x509::issue(&template, &issuer)?)?;
                let signer = Signer::for_ca_cert(&cert.der, pair)?;
                (cert, signer)
            }
        };
        CertificateAuthority::assemble(trust_domain, key_type, signer, key.pkcs8, vec![cert])
    }

    /// A CA from its parts; the subject and key ID come from `path[0]`.
    pub(crate) fn assemble(
        trust_domain: TrustDomain,
        key_type: KeyType,
        signer: Signer,
        key_der: PrivatePkcs8KeyDer<'static>,
        path: Vec<Cert>,
    ) -> Result<CertificateAuthority, CaError> {
        let own = path.first().ok_or(LoadError::NoCertificate)?;
        let (name, key_id) = x509::subject_and_key_id(&own.der)?;
        Ok(CertificateAuthority {
            trust_domain,
            key_type,
            signer,
            key_pem: pkcs8_pem(&key_der)?,
            key_der,
            name,
            key_id,
            path,
        })
    }

    /// Issues an intermediate signing CA of the same trust domain beneath this one. It may
    /// issue leaves only (pathLenConstraint 0); leaves it issues carry it in their chain.
    pub fn issue_intermediate(
        &self,
        key_type: KeyType,
        validity: Validity,
    ) -> Result<CertificateAuthority, CaError> {
        let key = key_type.generate()?;
        let (cert, signer) = match (&self.signer, key.pair) {
            (Signer::Rcgen(issuer), KeyPair::Rcgen(pair)) => {
                let params = ca_params(
                    &self.trust_domain,
                    validity,
                    BasicConstraints::Constrained(0),
                    "intermediate",
                )?;
                let cert = Cert::from_rcgen(&params.signed_by(&pair, issuer)?);
                (cert, Signer::Rcgen(rcgen::Issuer::new(params, pair)))
            }
            (_, pair) => {
                let spki = pair.spki_der()?;
                let serial = random_serial_bytes()?;
                let template = ca_template(
                    &self.trust_domain,
                    validity,
                    Some(0),
                    "intermediate",
                    &spki,
                    &serial,
                )?;
                let cert = Cert::from_der(x509::issue(&template, &self.x509_issuer())?)?;
                let signer = Signer::for_ca_cert(&cert.der, pair)?;
                (cert, signer)
            }
        };
        let mut path = vec![cert];
        path.extend(self.path.iter().cloned());
        CertificateAuthority::assemble(self.trust_domain.clone(), key_type, signer, key.pkcs8, path)
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
        self.check_leaf_id(id)?;
        let key = options.key_type.generate()?;
        let leaf = match (&self.signer, &key.pair) {
            (Signer::Rcgen(issuer), KeyPair::Rcgen(pair)) => {
                Cert::from_rcgen(&leaf_params(id, options)?.signed_by(pair, issuer)?)
            }
            _ => {
                let purpose = x509::Purpose::Svid {
                    key_encipherment: options.key_type == KeyType::Rsa2048,
                };
                self.issue_x509_leaf(id, options, &key, purpose)?
            }
        };
        self.finish_leaf(leaf, &key)
    }

    /// Issues a TLCP (GB/T 38636-2020) certificate pair for `id`: a signing certificate (an
    /// ordinary SM2 X.509-SVID, keyUsage digitalSignature) and an encryption certificate
    /// (critical keyUsage keyEncipherment, dataEncipherment and keyAgreement, without
    /// digitalSignature), each with its own key and both carrying `id` as their one URI SAN
    /// and EKU serverAuth + clientAuth. `options.key_type` must be [`KeyType::Sm2`].
    pub fn issue_tlcp_pair(
        &self,
        id: &SpiffeId,
        options: &LeafOptions,
    ) -> Result<IssuedTlcpPair, CaError> {
        if options.key_type != KeyType::Sm2 {
            return Err(CaError::TlcpNeedsSm2(options.key_type));
        }
        let sign = self.issue_svid_with(id, options)?;
        let key = KeyType::Sm2.generate()?;
        let enc = self.issue_x509_leaf(id, options, &key, x509::Purpose::Encryption)?;
        let enc = self.finish_leaf(enc, &key)?;
        Ok(IssuedTlcpPair { sign, enc })
    }

    /// Signs arbitrary certificate parameters with a fresh key of `key_type`, checking no
    /// SPIFFE rule. Meant for tests that need non-conforming certificates (two URI SANs, a CA
    /// flag on a leaf) from a real issuer. Goes through rcgen, so neither this CA nor
    /// `key_type` may be SM2 ([`CaError::Sm2Unsupported`]).
    pub fn sign_custom(
        &self,
        params: CertificateParams,
        key_type: KeyType,
    ) -> Result<IssuedSvid, CaError> {
        let key = key_type.generate()?;
        let (Signer::Rcgen(issuer), KeyPair::Rcgen(pair)) = (&self.signer, &key.pair) else {
            return Err(CaError::Sm2Unsupported("sign_custom"));
        };
        let leaf = Cert::from_rcgen(&params.signed_by(pair, issuer)?);
        self.finish_leaf(leaf, &key)
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
        self.key_pem.clone()
    }

    /// Refuses IDs this CA must not issue leaves for.
    fn check_leaf_id(&self, id: &SpiffeId) -> Result<(), CaError> {
        if !id.is_workload() {
            return Err(CaError::NotWorkloadId(id.clone()));
        }
        if id.trust_domain() != &self.trust_domain {
            return Err(CaError::ForeignTrustDomain {
                id: id.clone(),
                ca: self.trust_domain.clone(),
            });
        }
        Ok(())
    }

    /// This CA as the issuer of certificates built by [`x509`].
    fn x509_issuer(&self) -> x509::Issuer<'_> {
        let key = match &self.signer {
            Signer::Rcgen(issuer) => SignWith::Rcgen(issuer.key(), self.key_type),
            Signer::Sm2(key) => SignWith::Sm2(key),
        };
        x509::Issuer {
            name: &self.name,
            key_id: &self.key_id,
            key,
        }
    }

    /// A leaf for `id` through [`x509`]: subject O=meshtls, the URI SAN then the DNS SANs.
    fn issue_x509_leaf(
        &self,
        id: &SpiffeId,
        options: &LeafOptions,
        key: &Key,
        purpose: x509::Purpose,
    ) -> Result<Cert, CaError> {
        let mut sans = vec![x509::uri_san(&id.to_string())?];
        for dns in &options.dns_names {
            sans.push(x509::dns_san(dns)?);
        }
        let spki = key.pair.spki_der()?;
        let template = x509::Template {
            subject: x509::name(None)?,
            sans,
            spki_der: &spki,
            serial: &random_serial_bytes()?,
            validity: options.validity,
            purpose,
        };
        Cert::from_der(x509::issue(&template, &self.x509_issuer())?)
    }

    /// The issued leaf with this CA's intermediates and the leaf's key.
    fn finish_leaf(&self, leaf: Cert, key: &Key) -> Result<IssuedSvid, CaError> {
        let intermediates = &self.path[..self.path.len() - 1];
        let chain: Vec<&Cert> = std::iter::once(&leaf).chain(intermediates).collect();
        Ok(IssuedSvid {
            chain_pem: chain.iter().map(|c| c.pem.as_str()).collect(),
            key_pem: key.pem()?,
            chain_der: chain.iter().map(|c| c.der.clone()).collect(),
            key_der: key.pkcs8.clone_key(),
        })
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

/// An SM2-involving signing CA for [`x509`], with the subject [`ca_params`] gives rcgen.
fn ca_template<'a>(
    trust_domain: &TrustDomain,
    validity: Validity,
    path_len: Option<u8>,
    role: &str,
    spki_der: &'a [u8],
    serial: &'a [u8],
) -> Result<x509::Template<'a>, CaError> {
    let serial_text = rcgen::SerialNumber::from_slice(serial);
    let cn = format!("meshtls {role} CA {trust_domain} {serial_text}");
    Ok(x509::Template {
        subject: x509::name(Some(&cn))?,
        sans: vec![x509::uri_san(&trust_domain.id().to_string())?],
        spki_der,
        serial,
        validity,
        purpose: x509::Purpose::Ca(path_len),
    })
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
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::Ed25519 | KeyType::Sm2 => {
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
