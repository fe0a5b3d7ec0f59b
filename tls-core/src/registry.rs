//! The engines this process can use, registered by the binary's wiring code.
// SKELETON: the compose agent fills this in.

/// Registered engines.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    engines: Vec<&'static crate::Engine>,
}

impl Registry {
    /// A registry holding `engines`, in preference order for ties.
    pub fn new(engines: Vec<&'static crate::Engine>) -> Registry {
        Registry { engines }
    }

    /// Every engine.
    pub fn engines(&self) -> &[&'static crate::Engine] {
        &self.engines
    }
}
