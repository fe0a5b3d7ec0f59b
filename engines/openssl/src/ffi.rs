//! The one OpenSSL call of the algorithm modules that the `openssl` crate does not wrap:
//! setting SM2's distinguishing ID on a signing or verifying context.
//!
//! OpenSSL 3.0 computes SM2's Z value from the ID set with `EVP_PKEY_CTX_set1_id`, and its
//! default is the empty ID, not GB/T 32918.2's 1234567812345678; so [`crate::sm2`] sets it
//! on every context. openssl-sys does not declare the function (a real function since 3.0,
//! a control macro in 1.1.1), so it is declared here.

use std::ffi::{c_int, c_void};

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::pkey_ctx::PkeyCtxRef;

#[allow(unsafe_code)]
extern "C" {
    /// `int EVP_PKEY_CTX_set1_id(EVP_PKEY_CTX *ctx, const void *id, int len)`
    /// (openssl/evp.h, OpenSSL 3.0): copies `len` bytes of `id` into the context.
    fn EVP_PKEY_CTX_set1_id(
        ctx: *mut openssl_sys::EVP_PKEY_CTX,
        id: *const c_void,
        len: c_int,
    ) -> c_int;
}

/// Sets the SM2 distinguishing ID of a `DigestSign`/`DigestVerify` key context, before any
/// data is hashed (OpenSSL hashes Z on the first update).
#[allow(unsafe_code)]
pub(crate) fn set_sm2_id<T>(ctx: &mut PkeyCtxRef<T>, id: &[u8]) -> Result<(), ErrorStack> {
    // An ID longer than `c_int` cannot be set; OpenSSL's own error queue says nothing then.
    let Ok(len) = c_int::try_from(id.len()) else {
        return Err(ErrorStack::get());
    };
    // SAFETY: `ctx.as_ptr()` is a live `EVP_PKEY_CTX` for the whole mutable borrow, and
    // `id` is valid for reads of `len` bytes (its length, checked to fit `c_int` above);
    // OpenSSL copies the bytes (`set1`), keeping no pointer into `id` after the call.
    let ok = unsafe { EVP_PKEY_CTX_set1_id(ctx.as_ptr(), id.as_ptr().cast(), len) };
    if ok > 0 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}
