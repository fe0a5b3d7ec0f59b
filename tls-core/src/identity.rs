//! The live credentials of a workload: its SVIDs and the trust bundles, swapped atomically.
//!
//! Stacks read [`IdentityStore::current`] at every handshake; [`IdentityStore::rotate`]
//! replaces them for new handshakes and leaves established connections untouched.
//!
//! A workload may hold one SVID per key type (an ECDSA one for standard TLS beside an SM2 one
//! for the SM suites), all for the same SPIFFE ID, and for TLCP an encryption certificate
//! beside its SM2 signing SVID.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::spiffe::{Svid, TrustBundleSet};

/// A consistent snapshot: our SVIDs and the bundles that go with them.
#[derive(Debug)]
pub struct Credentials {
    /// Our identity: the SVID offered unless the peer's offer calls for another key type.
    pub svid: Svid,
    /// More SVIDs of the same SPIFFE ID with other key types (e.g. SM2 beside ECDSA), chosen
    /// per handshake by what the peer offers.
    pub alternates: Vec<Svid>,
    /// TLCP's encryption certificate and key (keyEncipherment/keyAgreement usage), paired with
    /// the SM2 signing SVID among `svid` and `alternates`.
    pub encryption: Option<Svid>,
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
        IdentityStore::with_set(SvidSet::single(svid), bundles)
    }

    /// Starts with a whole [`SvidSet`] and `bundles` as generation 0.
    pub fn with_set(set: SvidSet, bundles: TrustBundleSet) -> Arc<IdentityStore> {
        Arc::new(IdentityStore {
            current: RwLock::new(Arc::new(set.into_credentials(bundles, 0))),
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
        self.rotate_set(SvidSet::single(svid), bundles)
    }

    /// Swaps in a whole new [`SvidSet`] and bundles; returns the new generation.
    pub fn rotate_set(&self, set: SvidSet, bundles: TrustBundleSet) -> u64 {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let next = Arc::new(set.into_credentials(bundles, generation));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
        generation
    }
}

/// The SVIDs a workload holds at one time (see [`Credentials`] for each field's role).
#[derive(Debug)]
pub struct SvidSet {
    /// The SVID offered by default.
    pub svid: Svid,
    /// SVIDs of other key types for the same SPIFFE ID.
    pub alternates: Vec<Svid>,
    /// TLCP's encryption certificate and key.
    pub encryption: Option<Svid>,
}

impl SvidSet {
    /// One SVID and nothing else.
    pub fn single(svid: Svid) -> SvidSet {
        SvidSet {
            svid,
            alternates: Vec::new(),
            encryption: None,
        }
    }

    fn into_credentials(self, bundles: TrustBundleSet, generation: u64) -> Credentials {
        Credentials {
            svid: self.svid,
            alternates: self.alternates,
            encryption: self.encryption,
            bundles,
            generation,
        }
    }
}

impl Credentials {
    /// Every signing SVID, the default first.
    pub fn svids(&self) -> impl Iterator<Item = &Svid> {
        std::iter::once(&self.svid).chain(&self.alternates)
    }
}
