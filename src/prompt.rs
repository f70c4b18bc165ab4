//! Grounded prompt assembly. (Being written; the types below are the contract.)

use serde::{Deserialize, Serialize};

/// One chat message in the OpenAI shape (`role` is `system`, `user` or `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The message text.
    pub content: String,
}
