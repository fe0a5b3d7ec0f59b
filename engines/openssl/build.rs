//! Links the system OpenSSL by exact soname.
//!
//! BoringSSL (the `boring` engine, with prefixed symbols) puts its own `libcrypto.a` and
//! `libssl.a` on the linker's search path. openssl-sys asks for `-lcrypto -lssl`, which the
//! linker would then resolve to BoringSSL's archives first, leaving every OpenSSL symbol
//! undefined. Naming the system libraries verbatim (`-l:libcrypto.so.3`) cannot be shadowed.
//! BoringSSL's C symbols are all prefixed, so nothing else can bind to the wrong library.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_OPENSSL_VERSION_NUMBER");
    let version = std::env::var("DEP_OPENSSL_VERSION_NUMBER")
        .ok()
        .and_then(|v| u64::from_str_radix(&v, 16).ok())
        .unwrap_or(0x3000_0000);
    let major = version >> 28;
    let suffix = if major >= 3 {
        major.to_string()
    } else {
        "1.1".to_owned()
    };
    for lib in ["ssl", "crypto"] {
        println!("cargo:rustc-link-lib=dylib:+verbatim=lib{lib}.so.{suffix}");
    }
}
