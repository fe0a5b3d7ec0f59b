//! TLCP session resumption by session ID (GB/T 38636-2020 section 6.4.4, as RFC 5246 section
//! 7.3): the server-side cache and the client's saved sessions.
//!
//! A session is the master secret with what was negotiated around it (suite, the peer's
//! certificates). The server names each full handshake's session with 32 random bytes and
//! keeps it in a [`SessionCache`], bounded in size (oldest out first) and in age; a client
//! keeps the sessions it got in a [`ClientSessionStore`] under a key of its choosing and offers
//! the ID on its next ClientHello. Both take the time as an argument, so expiry is
//! deterministic under a test clock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use rustls_pki_types::CertificateDer;
use zeroize::Zeroizing;

use super::prf::MASTER_SECRET_LEN;
use super::suite::CipherSuite;

/// Sessions kept by default.
pub const DEFAULT_CAPACITY: usize = 1024;
/// Default session lifetime in seconds (Tongsuo and OpenSSL default to 300 s for servers;
/// an hour keeps reconnects cheap without holding secrets for long).
pub const DEFAULT_LIFETIME_SECS: u64 = 3600;

/// One resumable session.
#[derive(Clone)]
pub(crate) struct Session {
    /// The session ID (1 to 32 bytes).
    pub(crate) id: Vec<u8>,
    /// The suite it was negotiated with; a resumption must use the same one.
    pub(crate) suite: CipherSuite,
    /// The master secret.
    pub(crate) master_secret: Zeroizing<[u8; MASTER_SECRET_LEN]>,
    /// The peer's signing chain, as first presented.
    pub(crate) peer_sign_chain: Vec<CertificateDer<'static>>,
    /// The peer's encryption certificate.
    pub(crate) peer_enc_cert: Option<CertificateDer<'static>>,
    /// When the full handshake finished, seconds since the Unix epoch.
    pub(crate) created: u64,
}

impl Session {
    /// Whether the session is too old to resume at `now`.
    fn expired(&self, now: u64, lifetime: u64) -> bool {
        now < self.created || now - self.created >= lifetime
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("suite", &self.suite)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// A bounded map from key to session, evicting the oldest insertion first.
#[derive(Default)]
struct Bounded<K> {
    map: HashMap<K, Session>,
    order: VecDeque<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Bounded<K> {
    fn insert(&mut self, key: K, session: Session, capacity: usize) {
        if capacity == 0 {
            return;
        }
        if self.map.insert(key.clone(), session).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
    }

    fn get(&mut self, key: &K, now: u64, lifetime: u64) -> Option<Session> {
        let session = self.map.get(key)?;
        if session.expired(now, lifetime) {
            self.remove(key);
            return None;
        }
        Some(session.clone())
    }

    fn remove(&mut self, key: &K) {
        if self.map.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}

/// The server's cache of resumable sessions, shared by the connections of a listener.
#[derive(Debug)]
pub struct SessionCache {
    inner: Mutex<Bounded<Vec<u8>>>,
    capacity: usize,
    lifetime: u64,
}

impl SessionCache {
    /// A cache of at most `capacity` sessions (0 disables resumption), each resumable for
    /// `lifetime_secs` seconds after its full handshake.
    pub fn new(capacity: usize, lifetime_secs: u64) -> Self {
        Self {
            inner: Mutex::new(Bounded::default()),
            capacity,
            lifetime: lifetime_secs,
        }
    }

    /// Whether sessions are kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0 && self.lifetime > 0
    }

    /// Number of sessions held (expired ones included until they are looked up or pushed out).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live session with `id`, if any.
    pub(crate) fn get(&self, id: &[u8], now: u64) -> Option<Session> {
        if id.is_empty() {
            return None;
        }
        self.lock().get(&id.to_vec(), now, self.lifetime)
    }

    /// Keeps `session` under its ID.
    pub(crate) fn put(&self, session: Session) {
        if !self.enabled() {
            return;
        }
        self.lock()
            .insert(session.id.clone(), session, self.capacity);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bounded<Vec<u8>>> {
        // A panic elsewhere cannot leave the map half-updated in a harmful way.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_LIFETIME_SECS)
    }
}

impl<K> std::fmt::Debug for Bounded<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounded")
            .field("len", &self.map.len())
            .finish()
    }
}

/// A client's saved sessions, one per key (see `ClientConfig::session_key`).
#[derive(Debug)]
pub struct ClientSessionStore {
    inner: Mutex<Bounded<String>>,
    capacity: usize,
    lifetime: u64,
}

impl ClientSessionStore {
    /// A store of at most `capacity` sessions, each offered for at most `lifetime_secs`
    /// seconds after its full handshake.
    pub fn new(capacity: usize, lifetime_secs: u64) -> Self {
        Self {
            inner: Mutex::new(Bounded::default()),
            capacity,
            lifetime: lifetime_secs,
        }
    }

    /// Number of sessions held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live session saved under `key`.
    pub(crate) fn get(&self, key: &str, now: u64) -> Option<Session> {
        self.lock().get(&key.to_owned(), now, self.lifetime)
    }

    /// Saves `session` under `key`, replacing the previous one.
    pub(crate) fn put(&self, key: &str, session: Session) {
        self.lock().insert(key.to_owned(), session, self.capacity);
    }

    /// Forgets the session under `key` (the server refused it or the connection failed).
    pub(crate) fn remove(&self, key: &str) {
        self.lock().remove(&key.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bounded<String>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ClientSessionStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_LIFETIME_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u8, created: u64) -> Session {
        Session {
            id: vec![id; 32],
            suite: CipherSuite::EccSm4GcmSm3,
            master_secret: Zeroizing::new([id; MASTER_SECRET_LEN]),
            peer_sign_chain: Vec::new(),
            peer_enc_cert: None,
            created,
        }
    }

    #[test]
    fn cache_is_bounded_and_expires() {
        let cache = SessionCache::new(2, 100);
        for id in 1..=3 {
            cache.put(session(id, 1000));
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&[1; 32], 1000).is_none(), "oldest pushed out");
        assert!(cache.get(&[3; 32], 1099).is_some());
        assert!(cache.get(&[3; 32], 1100).is_none(), "expired");
        assert!(cache.get(&[2; 32], 999).is_none(), "from the future");
        assert!(cache.get(&[], 1000).is_none());
    }

    #[test]
    fn disabled_cache_keeps_nothing() {
        let cache = SessionCache::new(0, 100);
        cache.put(session(1, 0));
        assert!(cache.is_empty());
    }

    #[test]
    fn client_store_replaces_per_key() {
        let store = ClientSessionStore::new(4, 100);
        store.put("a", session(1, 0));
        store.put("a", session(2, 0));
        assert_eq!(store.len(), 1);
        assert_eq!(store.get("a", 5).map(|s| s.id[0]), Some(2));
        store.remove("a");
        assert!(store.is_empty());
    }
}
