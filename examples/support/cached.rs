//! An embedder that embeds each single text once, for the tuning examples (`tune_retrieval`,
//! `followup_variants`), which ask the same questions many times over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use docent::embed::{Embedder, EmbedderInfo};

/// Remembers the vector of every text embedded alone; batches pass through.
pub struct Cached {
    inner: Arc<dyn Embedder>,
    seen: Mutex<HashMap<String, Vec<f32>>>,
}

impl Cached {
    /// `inner` behind a cache.
    pub fn new(inner: Arc<dyn Embedder>) -> Cached {
        Cached { inner, seen: Mutex::new(HashMap::new()) }
    }
}

impl Embedder for Cached {
    fn info(&self) -> &EmbedderInfo {
        self.inner.info()
    }

    fn embed(&self, texts: &[&str]) -> docent::Result<Vec<f32>> {
        let [one] = texts else { return self.inner.embed(texts) };
        let mut seen = self.seen.lock().map_err(|_| docent::Error::NotBuilt)?;
        if let Some(v) = seen.get(*one) {
            return Ok(v.clone());
        }
        let v = self.inner.embed(texts)?;
        seen.insert(one.to_string(), v.clone());
        Ok(v)
    }

    fn tokenizer(&self) -> Option<&tokenizers::Tokenizer> {
        self.inner.tokenizer()
    }
}
