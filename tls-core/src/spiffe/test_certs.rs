//! Certificates for the SPIFFE unit tests, made with rcgen at test time.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SignatureAlgorithm,
};
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

/// A signing CA of one trust domain.
pub(crate) struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub(crate) cert: CertificateDer<'static>,
    pem: String,
}

impl Ca {
    /// A self-signed root for `td` (URI SAN `spiffe://td`), P-256.
    pub(crate) fn root(td: &str) -> Ca {
        Ca::root_with(td, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// A self-signed root for `td` with a key of `alg`.
    pub(crate) fn root_with(td: &str, alg: &'static SignatureAlgorithm) -> Ca {
        Ca::self_signed(ca_params(td), KeyPair::generate_for(alg).unwrap())
    }

    /// A root with the same subject as this one but its own key: an impostor.
    pub(crate) fn impostor(&self) -> Ca {
        Ca::self_signed(self.params.clone(), KeyPair::generate().unwrap())
    }

    fn self_signed(params: CertificateParams, key: KeyPair) -> Ca {
        let cert = params.self_signed(&key).unwrap();
        Ca {
            params,
            key,
            cert: cert.der().clone(),
            pem: cert.pem(),
        }
    }

    /// An intermediate CA of the same trust domain, signed by this one.
    pub(crate) fn intermediate(&self, td: &str) -> Ca {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = ca_params(td);
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        Ca {
            params,
            key,
            cert: cert.der().clone(),
            pem: cert.pem(),
        }
    }

    /// This CA's certificate as PEM.
    pub(crate) fn pem(&self) -> String {
        self.pem.clone()
    }

    /// A valid X.509-SVID for `id` as PEM: (certificate, PKCS#8 key).
    pub(crate) fn svid_pem(&self, id: &str) -> (String, String) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = svid_params(&[id]).signed_by(&key, &self.issuer()).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// Signs `params` for a fresh P-256 key; returns the certificate and the key.
    pub(crate) fn sign(&self, params: &CertificateParams) -> (CertificateDer<'static>, KeyPair) {
        self.sign_with(params, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// Signs `params` for a fresh key of `alg`.
    pub(crate) fn sign_with(
        &self,
        params: &CertificateParams,
        alg: &'static SignatureAlgorithm,
    ) -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate_for(alg).unwrap();
        let cert = params
            .signed_by(&key, &self.issuer())
            .unwrap()
            .der()
            .clone();
        (cert, key)
    }

    /// A valid X.509-SVID for `id`.
    pub(crate) fn svid(&self, id: &str) -> (CertificateDer<'static>, KeyPair) {
        self.sign(&svid_params(&[id]))
    }
}

/// Each CA gets its own subject, so that an unrelated CA is not mistaken for an issuer.
static NEXT_CA: AtomicUsize = AtomicUsize::new(0);

fn ca_params(td: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, td);
    let n = NEXT_CA.fetch_add(1, Ordering::Relaxed);
    params
        .distinguished_name
        .push(DnType::CommonName, format!("ca-{n}"));
    params.subject_alt_names = vec![uri(&format!("spiffe://{td}"))];
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Parameters of a valid SVID carrying the given URI SANs.
pub(crate) fn svid_params(uris: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "workload");
    params.subject_alt_names = uris.iter().map(|u| uri(u)).collect();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params
}

pub(crate) fn uri(u: &str) -> SanType {
    SanType::URI(u.try_into().unwrap())
}

/// A subjectAltName extension with one URI, criticality as given (rcgen always marks the
/// SAN critical when the subject is empty, so the non-critical case is written by hand).
pub(crate) fn san_extension(u: &str, critical: bool) -> CustomExtension {
    let mut general_name = vec![0x86, u8::try_from(u.len()).unwrap()];
    general_name.extend_from_slice(u.as_bytes());
    let mut content = vec![0x30, u8::try_from(general_name.len()).unwrap()];
    content.extend(general_name);
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 17], content);
    ext.set_criticality(critical);
    ext
}

/// A non-critical keyUsage with only digitalSignature.
pub(crate) fn non_critical_key_usage() -> CustomExtension {
    // BIT STRING, 7 unused bits, bit 0 (digitalSignature) set.
    CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x07, 0x80])
}

pub(crate) fn pkcs8(key: &KeyPair) -> PrivatePkcs8KeyDer<'static> {
    PrivatePkcs8KeyDer::from(key.serialize_der())
}
