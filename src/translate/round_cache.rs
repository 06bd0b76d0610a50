//! A cache that keeps what the last two translations used: an entry no translation asked for
//! since the previous round is dropped at the next one. For pure computations whose inputs
//! barely change between translations (Kong's hashing wheel, a TLS key-pair check).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

struct Rounds<K, V> {
    current: HashMap<K, V>,
    previous: HashMap<K, V>,
}

pub struct RoundCache<K, V> {
    rounds: Mutex<Rounds<K, V>>,
}

impl<K, V> Default for RoundCache<K, V> {
    fn default() -> Self {
        RoundCache {
            rounds: Mutex::new(Rounds {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }
}

impl<K: Hash + Eq, V: Clone> RoundCache<K, V> {
    fn lock(&self) -> MutexGuard<'_, Rounds<K, V>> {
        // Only whole entries are ever inserted: a poisoned map is still consistent.
        self.rounds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the start of a translation.
    pub fn new_round(&self) {
        let mut rounds = self.lock();
        rounds.previous = std::mem::take(&mut rounds.current);
    }

    /// The value for `key`, computed by `compute` when neither round holds it.
    pub fn get(&self, key: K, compute: impl FnOnce(&K) -> V) -> V {
        {
            let mut rounds = self.lock();
            if let Some(v) = rounds.current.get(&key) {
                return v.clone();
            }
            if let Some(v) = rounds.previous.remove(&key) {
                rounds.current.insert(key, v.clone());
                return v;
            }
        }
        // Computed outside the lock: another thread may do the same work, never wrong work.
        let v = compute(&key);
        self.lock().current.insert(key, v.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::RoundCache;
    use std::cell::Cell;

    #[test]
    fn an_entry_lives_while_a_round_uses_it() {
        let cache: RoundCache<u32, u32> = RoundCache::default();
        let computed = Cell::new(0);
        let get = |k| {
            cache.get(k, |k| {
                computed.set(computed.get() + 1);
                k * 2
            })
        };
        assert_eq!(get(1), 2);
        assert_eq!(get(1), 2);
        assert_eq!(computed.get(), 1);
        cache.new_round();
        assert_eq!(get(1), 2, "kept from the previous round");
        assert_eq!(computed.get(), 1);
        cache.new_round();
        cache.new_round();
        assert_eq!(get(1), 2, "unused for a whole round: computed again");
        assert_eq!(computed.get(), 2);
    }
}
