//! The live credentials of a workload: its SVID and the trust bundles, swapped atomically.
//!
//! Stacks read [`IdentityStore::current`] at every handshake; [`IdentityStore::rotate`]
//! replaces both for new handshakes and leaves established connections untouched.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::spiffe::{Svid, TrustBundleSet};

/// A consistent snapshot: one SVID and the bundles that go with it.
#[derive(Debug)]
pub struct Credentials {
    /// Our identity.
    pub svid: Svid,
    /// Trust anchors per trust domain, for verifying peers.
    pub bundles: TrustBundleSet,
    /// Increases by one at each rotation; stacks key their caches on it.
    pub generation: u64,
}

/// Holds the current [`Credentials`].
#[derive(Debug)]
pub struct IdentityStore {
    current: RwLock<Arc<Credentials>>,
    next_generation: AtomicU64,
}

impl IdentityStore {
    /// Starts with `svid` and `bundles` as generation 0.
    pub fn new(svid: Svid, bundles: TrustBundleSet) -> Arc<IdentityStore> {
        Arc::new(IdentityStore {
            current: RwLock::new(Arc::new(Credentials {
                svid,
                bundles,
                generation: 0,
            })),
            next_generation: AtomicU64::new(1),
        })
    }

    /// The credentials new handshakes use now.
    pub fn current(&self) -> Arc<Credentials> {
        // A poisoned lock only means a writer panicked between two whole-Arc stores; the
        // value inside is still a complete snapshot.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Swaps in a new SVID and bundles for every later handshake; returns the new generation.
    pub fn rotate(&self, svid: Svid, bundles: TrustBundleSet) -> u64 {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let next = Arc::new(Credentials {
            svid,
            bundles,
            generation,
        });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
        generation
    }
}
