//! Survey definitions by version, parsed once per node and shared. A stored version never
//! changes, so a parsed one can be kept and handed to every request as an `Arc` (no copy per
//! page view); concurrent requests for a version not yet parsed wait for one parse.
//! Parsing big definitions runs off the async runtime's threads, two at a time.

use crate::surveys::Survey;
use crate::{Error, Result, Sonde};
use hashlink::LruCache;
use std::sync::{Arc, Mutex};
use store::surveys::SurveyRow;
use survey::SurveyDefinition;
use tokio::sync::{OnceCell, Semaphore};

/// Definition JSON kept parsed, in bytes of JSON (about what the parsed form takes).
const CACHE_BYTES: usize = 256 * 1024 * 1024;
/// Versions kept parsed, whatever their size.
const CACHE_ENTRIES: usize = 1024;
/// Work on definitions at least this big (parsing, import, validation) waits for one of
/// [`HEAVY_AT_ONCE`] permits, so a burst of big imports cannot take every core and the memory
/// of all of them at once.
pub(crate) const HEAVY_BYTES: usize = 1024 * 1024;
const HEAVY_AT_ONCE: usize = 2;

type Key = (String, i64);

struct Slot {
    parsed: Arc<OnceCell<Arc<SurveyDefinition>>>,
    /// JSON bytes, once parsed.
    bytes: usize,
}

/// The parsed definitions of one process.
pub(crate) struct Definitions {
    slots: Mutex<Slots>,
    heavy: Semaphore,
}

struct Slots {
    lru: LruCache<Key, Slot>,
    bytes: usize,
}

impl Definitions {
    pub(crate) fn new() -> Self {
        Self {
            slots: Mutex::new(Slots {
                lru: LruCache::new_unbounded(),
                bytes: 0,
            }),
            heavy: Semaphore::new(HEAVY_AT_ONCE),
        }
    }

    fn cell(&self, key: &Key) -> Arc<OnceCell<Arc<SurveyDefinition>>> {
        let mut slots = self.slots.lock().expect("the cache lock is never poisoned");
        if let Some(slot) = slots.lru.get(key) {
            return slot.parsed.clone();
        }
        let parsed = Arc::new(OnceCell::new());
        slots.lru.insert(
            key.clone(),
            Slot {
                parsed: parsed.clone(),
                bytes: 0,
            },
        );
        parsed
    }

    /// Counts a parsed version's size and evicts the least recently used beyond the budget
    /// (a request holding an evicted definition keeps its `Arc`).
    fn account(&self, key: &Key, bytes: usize) {
        let mut slots = self.slots.lock().expect("the cache lock is never poisoned");
        let Slots { lru, bytes: total } = &mut *slots;
        if let Some(slot) = lru.peek_mut(key) {
            if slot.bytes == 0 {
                slot.bytes = bytes;
                *total += bytes;
            }
        }
        while (*total > CACHE_BYTES || lru.len() > CACHE_ENTRIES) && lru.len() > 1 {
            match lru.remove_lru() {
                Some((_, slot)) => *total -= slot.bytes,
                None => break,
            }
        }
    }

    /// Forgets a version whose load failed, so the next request tries again.
    fn forget(&self, key: &Key) {
        let mut slots = self.slots.lock().expect("the cache lock is never poisoned");
        if let Some(slot) = slots.lru.remove(key) {
            slots.bytes -= slot.bytes;
        }
    }

    /// Keeps a definition just written (create, import, edit), so its first page view does
    /// not parse it again.
    pub(crate) fn remember(&self, key: Key, definition: Arc<SurveyDefinition>, bytes: usize) {
        let cell = self.cell(&key);
        if cell.set(definition).is_ok() {
            self.account(&key, bytes);
        }
    }

    /// Runs CPU-heavy work on a blocking thread; work on `bytes` of at least [`HEAVY_BYTES`]
    /// first waits for a permit.
    pub(crate) async fn heavy<T: Send + 'static>(
        &self,
        bytes: usize,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = if bytes >= HEAVY_BYTES {
            Some(
                self.heavy
                    .acquire()
                    .await
                    .map_err(|e| Error::Internal(Box::new(e)))?,
            )
        } else {
            None
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(Box::new(e)))
    }
}

impl Sonde {
    /// One version of a survey's definition, parsed once per node. `NotFound` when the version
    /// is gone (removed once no response in progress used it).
    pub(crate) async fn definition(
        &self,
        survey_id: &str,
        version: i64,
    ) -> Result<Arc<SurveyDefinition>> {
        let key = (survey_id.to_string(), version);
        let cell = self.definitions.cell(&key);
        let loaded = cell
            .get_or_try_init(|| async {
                let json = self
                    .store
                    .survey_definition(survey_id, version)
                    .await?
                    .ok_or(Error::NotFound("survey version"))?;
                let bytes = json.len();
                let parsed = self
                    .definitions
                    .heavy(bytes, move || {
                        serde_json::from_str::<SurveyDefinition>(&json)
                    })
                    .await??;
                self.definitions.account(&key, bytes);
                Ok::<_, Error>(Arc::new(parsed))
            })
            .await;
        match loaded {
            Ok(definition) => Ok(definition.clone()),
            Err(e) => {
                self.definitions.forget(&key);
                Err(e)
            }
        }
    }

    /// A survey with its current definition.
    pub(crate) async fn survey_from_row(&self, row: SurveyRow) -> Result<Survey> {
        let definition = self.definition(&row.id, row.version).await?;
        Ok(Survey::new(row, definition))
    }
}
