//! Interning of adapters: rustls wants `&'static` algorithm objects everywhere, but ours are
//! composed at run time.
//!
//! Each adapter is built once per key (engine and algorithm, or a suite's parts) and leaked.
//! The leak is bounded: keys range over the finite set of registered engines x catalogue
//! algorithms (x suites, x signature-engine choices), however many providers are composed.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

type Table = HashMap<(TypeId, String), &'static (dyn Any + Send + Sync)>;

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(Mutex::default)
}

/// The one `T` interned under `key`, built by `make` the first time.
///
/// `make` runs without the lock held, so it may intern the parts it refers to; when two
/// threads race, the loser's value is dropped, not leaked.
pub(crate) fn intern<T: Any + Send + Sync>(key: String, make: impl FnOnce() -> T) -> &'static T {
    let slot = (TypeId::of::<T>(), key);
    if let Some(found) = lookup::<T>(&slot) {
        return found;
    }
    let value = make();
    let mut table = table().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = table.get(&slot).and_then(|v| v.downcast_ref::<T>()) {
        return found;
    }
    let leaked: &'static T = Box::leak(Box::new(value));
    table.insert(slot, leaked);
    leaked
}

fn lookup<T: Any + Send + Sync>(slot: &(TypeId, String)) -> Option<&'static T> {
    let table = table().lock().unwrap_or_else(PoisonError::into_inner);
    table.get(slot).and_then(|v| v.downcast_ref::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_object_and_types_are_apart() {
        let a = intern("k".into(), || 1u32);
        let b = intern("k".into(), || 2u32);
        assert!(std::ptr::eq(a, b));
        assert_eq!(*b, 1);
        let c = intern("k".into(), || 3u64);
        assert_eq!(*c, 3);
        let nested = intern("outer".into(), || *intern("inner".into(), || 7u16) + 1);
        assert_eq!(*nested, 8);
    }
}
