//! The one error type of docent.
//!
//! Owns: every failure the core can report. Its `Display` is user-facing text: it names the input
//! (file, field, option), says what was expected and what was found. The wasm edge turns it into a
//! JS `Error` with exactly this message, and the CLI prints it as its one-line error.
//! Must not: carry JS types or panic payloads.

use std::fmt;

/// Every error docent reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    Io {
        /// The path involved, as the user gave it.
        path: String,
        /// The underlying OS error.
        source: std::io::Error,
    },
    /// A document was rejected while it was ingested (nothing of it was added).
    Document {
        /// The document's url (or path).
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// An index file or manifest is malformed: truncated, corrupted, or not an index at all.
    Format {
        /// Which file or part (e.g. `index.bin, section 'chunks'`).
        what: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// An index file was written by a format version this build cannot read.
    UnsupportedVersion {
        /// Which file.
        what: String,
        /// The version found in the file.
        found: u32,
        /// The versions this build reads.
        supported: String,
    },
    /// The index was built with a different embedder than the one given to query it.
    EmbedderMismatch {
        /// The embedder recorded in the index.
        index: String,
        /// The embedder the caller supplied.
        given: String,
    },
    /// Model files are missing or malformed.
    Model {
        /// The model file or directory.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The tokenizer failed on an input.
    Tokenizer {
        /// What the tokenizer reported.
        reason: String,
    },
    /// An option or argument is out of range or malformed.
    InvalidArgument {
        /// The option's name as the caller spelled it (e.g. `k`, `chunk_tokens`).
        name: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// A vector has the wrong dimension or non-finite values.
    Vector {
        /// What was wrong, including the vector's position.
        reason: String,
    },
    /// The operation needs search structures that were not built yet.
    NotBuilt,
    /// A call to an LLM endpoint failed.
    Llm {
        /// The endpoint (never including a key).
        endpoint: String,
        /// What happened, in words a user can act on.
        reason: String,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Document { url, reason } => write!(f, "document {url}: {reason}"),
            Error::Format { what, reason } => write!(f, "{what}: {reason}"),
            Error::UnsupportedVersion { what, found, supported } => write!(
                f,
                "{what}: unsupported index format version {found} (this build of docent reads version {supported}); rebuild the index with this version of docent"
            ),
            Error::EmbedderMismatch { index, given } => write!(
                f,
                "embedder mismatch: the index was built with {index} but the query embedder is {given}; query with the same embedder (and model files) that built the index"
            ),
            Error::Model { path, reason } => write!(f, "model {path}: {reason}"),
            Error::Tokenizer { reason } => write!(f, "tokenizer: {reason}"),
            Error::InvalidArgument { name, reason } => write!(f, "invalid {name}: {reason}"),
            Error::Vector { reason } => write!(f, "invalid vector: {reason}"),
            Error::NotBuilt => write!(
                f,
                "the index is not built: call build() after adding documents, before searching"
            ),
            Error::Llm { endpoint, reason } => write!(f, "LLM endpoint {endpoint}: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }

    /// An [`Error::InvalidArgument`].
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { name: name.into(), reason: reason.into() }
    }

    /// An [`Error::Format`].
    pub fn format(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Format { what: what.into(), reason: reason.into() }
    }

    /// An [`Error::Model`].
    pub fn model(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Model { path: path.into(), reason: reason.into() }
    }
}
