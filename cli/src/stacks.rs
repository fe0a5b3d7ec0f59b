//! TLS stacks by name: rustls from tls-core, the engines' own stacks (openssl, boring, and
//! tlcp from the SM engine) from the registered engines.

use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::TlsStack;
use meshtls_tls_core::{ConfigError, Registry};

/// Every stack of this build: rustls first, then the engines' own stacks.
pub(crate) fn all(registry: &Registry) -> Vec<&'static dyn TlsStack> {
    std::iter::once(&RUSTLS_STACK as &'static dyn TlsStack)
        .chain(registry.native_stacks())
        .collect()
}

/// The stack called `name`, or [`ConfigError::UnknownStack`].
pub(crate) fn find(registry: &Registry, name: &str) -> Result<&'static dyn TlsStack, ConfigError> {
    all(registry)
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| ConfigError::UnknownStack(name.to_owned()))
}
