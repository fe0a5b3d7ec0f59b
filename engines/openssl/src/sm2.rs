//! SM2 signatures over OpenSSL (GB/T 32918.2): SM3 over Z || message, Z from the scheme's
//! signer ID (1234567812345678 for `Sm2Sm3`, "TLSv1.3+GM+Cipher+Suite" for TLS 1.3's
//! `Sm2Sm3Tls13`), signatures as DER `SEQUENCE { r, s }`.
//!
//! Keys are PKCS#8 as OpenSSL writes them: `id-ecPublicKey` with the curve OID
//! 1.2.156.10197.1.301. OpenSSL 3.0 makes every key on that curve an `SM2` key (its decoders,
//! and `EVP_PKEY_assign` for an `EC_KEY`), which signs and verifies as SM2, not ECDSA. Its
//! default signer ID is empty, so every context gets the standard ID explicitly
//! (`ffi::set_sm2_id`). Public keys are the uncompressed point, as for ECDSA.
//!
//! Checked against GB/T 32918.2's example signature and the `openssl pkeyutl` CLI in
//! `tests/sm.rs`.

use std::fmt;

use meshtls_tls_core::engine::{Algorithm, Signature, SigningKey};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};
use openssl::ec::{EcGroup, EcKey};
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use zeroize::Zeroizing;

use crate::{backend, ffi, kx};

/// The signer ID of GB/T 32918.2's examples, also used in certificates and TLCP.
pub const SIGNER_ID: &[u8] = meshtls_tls_core::algorithm::SM2_DEFAULT_ID;

/// The DER SubjectPublicKeyInfo of an SM2 key up to its point: `SEQUENCE { SEQUENCE {
/// id-ecPublicKey, 1.2.156.10197.1.301 }, BIT STRING (66 bytes, no unused bits) }`; the
/// 65-byte uncompressed point follows.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00,
];

/// SM2 signatures backed by OpenSSL.
#[derive(Debug)]
pub struct OpensslSm2;

/// SM2 with SM3 (`sm2sig_sm3`). OpenSSL 3.0 runs it on its generic prime-field code.
pub static SM2: OpensslSm2 = OpensslSm2;

impl Algorithm for OpensslSm2 {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::Sm2
    }
}

/// The signer ID of an SM2 scheme; a scheme of another key type is refused.
fn signer_id(scheme: SigScheme) -> Result<&'static [u8], CryptoError> {
    scheme.sm2_id().ok_or(CryptoError::WrongKeyType)
}

impl Signature for OpensslSm2 {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        let key = PKey::private_key_from_pkcs8(pkcs8_der).map_err(|_| CryptoError::InvalidKey)?;
        // OpenSSL 3.0 decodes such a key into its `SM2` provider, which has no legacy type
        // (`EVP_PKEY_get_id` is -1, and there is no `EC_KEY` to ask for the curve): the key
        // is recognised by its SubjectPublicKeyInfo, which also carries the public point.
        let spki = key.public_key_to_der().map_err(backend)?;
        let public = spki
            .strip_prefix(&SPKI_PREFIX[..])
            .ok_or(CryptoError::WrongKeyType)?
            .to_vec();
        Ok(Box::new(Sm2SigningKey { key, public }))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let group = EcGroup::from_curve_name(Nid::SM2).map_err(backend)?;
        let key = PKey::from_ec_key(EcKey::generate(&group).map_err(backend)?).map_err(backend)?;
        key.private_key_to_pkcs8()
            .map(Zeroizing::new)
            .map_err(backend)
    }

    fn verify(
        &self,
        scheme: SigScheme,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let id = signer_id(scheme)?;
        let key = public_key_from_point(public_key)?;
        let mut ctx = MdCtx::new().map_err(backend)?;
        let pctx = ctx
            .digest_verify_init(Some(Md::sm3()), &key)
            .map_err(backend)?;
        ffi::set_sm2_id(pctx, id).map_err(backend)?;
        // A malformed signature is an error in OpenSSL, a wrong one is `false`: both are bad.
        match ctx.digest_verify(message, signature) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(CryptoError::BadSignature),
        }
    }
}

/// An SM2 public key from an uncompressed point, refusing points off the curve, the point
/// at infinity and other encodings.
fn public_key_from_point(point: &[u8]) -> Result<PKey<Public>, CryptoError> {
    kx::ec_public_key(Nid::SM2, point)?.ok_or(CryptoError::InvalidKey)
}

/// A loaded SM2 private key.
struct Sm2SigningKey {
    key: PKey<Private>,
    public: Vec<u8>,
}

impl fmt::Debug for Sm2SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm2SigningKey").finish_non_exhaustive()
    }
}

impl SigningKey for Sm2SigningKey {
    fn schemes(&self) -> &[SigScheme] {
        AlgorithmId::Sm2.schemes()
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = signer_id(scheme)?;
        let mut ctx = MdCtx::new().map_err(backend)?;
        let pctx = ctx
            .digest_sign_init(Some(Md::sm3()), &self.key)
            .map_err(backend)?;
        ffi::set_sm2_id(pctx, id).map_err(backend)?;
        let mut signature = Vec::new();
        ctx.digest_sign_to_vec(message, &mut signature)
            .map_err(backend)?;
        Ok(signature)
    }

    fn public_key(&self) -> Vec<u8> {
        self.public.clone()
    }
}
