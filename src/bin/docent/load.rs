//! Finding the model files and loading an index folder for `search`, `ask` and `eval`, and
//! reading the files those commands are given.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use docent::embed::{Embedder, EmbedderKind};
use docent::engine::Docent;
use docent::site::{self, Manifest};
use docent::{Error, Result};
use serde::Deserialize;

/// The model directory: the flag, else $DOCENT_MODEL_DIR, else ./models, else `models/` beside
/// the binary.
pub fn model_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCENT_MODEL_DIR") {
        return Ok(PathBuf::from(d));
    }
    let mut tried = vec![PathBuf::from("models")];
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        tried.push(exe_dir.join("models"));
    }
    for d in &tried {
        if d.join("model.json").is_file() {
            return Ok(d.clone());
        }
    }
    Err(Error::model(
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        "no prepared model files found (looked for model.json); run ./build.sh setup, or pass --model-dir, or set DOCENT_MODEL_DIR",
    ))
}

/// The name of the gate's word list in a model directory (`docent index --words`).
pub const WORDS_FILE: &str = "words.txt";

/// The text of the gate's word list: `flag` (`--words`), else `words.txt` in `model_dir` when
/// there is one, else `None`. Errors: a file that cannot be read, or that is not UTF-8.
pub fn word_list(flag: Option<&Path>, model_dir: Option<&Path>) -> Result<Option<String>> {
    let path = match (flag, model_dir) {
        (Some(f), _) => f.to_path_buf(),
        (None, Some(d)) if d.join(WORDS_FILE).is_file() => d.join(WORDS_FILE),
        _ => return Ok(None),
    };
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::invalid("words", format!("{} is not UTF-8 text", path.display())))
}

pub fn load_embedder(kind: EmbedderKind, dim: usize, flag: Option<&Path>) -> Result<Arc<dyn Embedder>> {
    let dir = if kind.model_files().is_empty() { PathBuf::new() } else { model_dir(flag)? };
    embedder_at(kind, dim, &dir)
}

/// The embedder of `kind`, reading its model files from `dir` (unused for `hashing`).
pub fn embedder_at(kind: EmbedderKind, dim: usize, dir: &Path) -> Result<Arc<dyn Embedder>> {
    Ok(match kind {
        EmbedderKind::Hashing => Arc::new(docent::embed::hashing::Hashing::new(dim)?),
        EmbedderKind::MiniLm => Arc::new(docent::embed::minilm::MiniLm::load(dir)?),
        EmbedderKind::Static => Arc::new(docent::embed::static_table::StaticTable::load(dir)?),
        EmbedderKind::Vectors => {
            return Err(Error::invalid(
                "embedder",
                "this index was built from caller-supplied vectors; the CLI cannot embed queries for it",
            ))
        }
    })
}

/// Reads a file whole.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The index of the folder `dir` (written by `docent index`), with the embedder it was built
/// with (model files from `flag`, see [`model_dir`]).
pub fn load_index(dir: &Path, flag: Option<&Path>) -> Result<Docent> {
    let mpath = dir.join(site::MANIFEST_FILE);
    let m = Manifest::parse(&read_file(&mpath)?, &mpath.display().to_string())?;
    let ipath = dir.join(&m.index);
    let bytes = read_file(&ipath)?;
    let what = ipath.display().to_string();
    let info = Docent::embedder_of(&bytes, &what)?;
    let embedder = load_embedder(info.kind, info.dim, flag)?;
    Docent::from_bytes(&bytes, embedder, &what)
}

#[derive(Deserialize)]
pub struct QueryLine {
    pub q: String,
    /// Earlier turns of the conversation, oldest first (`docent eval`: a follow-up): questions
    /// (strings, asked first so that each carries the sources it was given) or turns as given
    /// (`{question, answer?, sources?}` objects, [`turn_of`]).
    #[serde(default)]
    pub history: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub relevant: Option<Vec<String>>,
}

pub fn read_queries(path: &Path) -> Result<Vec<QueryLine>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(&line).map_err(|e| {
            Error::format(
                format!("{}:{}", path.display(), i + 1),
                format!("expected a JSON object with a string field \"q\": {e}"),
            )
        })?;
        out.push(q);
    }
    Ok(out)
}

/// An index folder read through its fragments (`--fragments`), as a browser reads it: the
/// manifest, then only the fragments each question needs, from the folder's files.
pub struct Site {
    pub index: docent::fragments::SiteIndex,
    pub src: crate::fragments::FileSource,
    /// The embedder of the index, when the index has dense fragments and a query vector is
    /// wanted.
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl Site {
    /// Opens the folder `dir`; with `vectors`, also loads the index's embedder (model files from
    /// `flag`, see [`model_dir`]) when the index has dense fragments, and checks that it is the
    /// one the manifest records.
    pub fn open(dir: &Path, flag: Option<&Path>, vectors: bool) -> Result<Site> {
        let mpath = dir.join(site::MANIFEST_FILE);
        let index = docent::fragments::SiteIndex::open(&read_file(&mpath)?, &mpath.display().to_string())?;
        let embedder = if vectors && index.has_dense() {
            let info = index.embedder().clone();
            let e = load_embedder(info.kind, info.dim, flag)?;
            if *e.info() != info {
                return Err(Error::EmbedderMismatch { index: info.to_string(), given: e.info().to_string() });
            }
            Some(e)
        } else {
            None
        };
        Ok(Site { index, src: crate::fragments::FileSource { dir: dir.to_path_buf() }, embedder })
    }

    /// The query vector of `q`, when an embedder was loaded.
    pub fn vector(&self, q: &str) -> Result<Option<Vec<f32>>> {
        self.embedder.as_ref().map(|e| e.embed(&[q])).transpose()
    }

    /// `fetched N fragments (B bytes) in R requests (S stages)`, for stderr.
    pub fn fetched(&self) -> String {
        let s = self.index.fetched();
        format!(
            "fetched {} fragments ({} bytes) in {} requests ({} stages), through {}",
            s.fragments,
            s.bytes,
            s.requests,
            s.stages,
            if self.embedder.is_some() { "the hybrid path" } else { "the lexical path" }
        )
    }
}

/// One line of a history file as read, with every field optional so that a missing or
/// mistyped one is named in the error.
#[derive(Deserialize)]
struct TurnLine {
    question: Option<serde_json::Value>,
    answer: Option<serde_json::Value>,
    sources: Option<serde_json::Value>,
}

/// The earlier turns of `docent ask --history FILE`, oldest first: a JSON array of
/// `{"question": …, "answer": …, "sources": […]}` objects, or the same objects as JSON lines (one
/// per line, blank lines skipped). `answer` may be left out (a stopped answer), `sources` too
/// (the `page#anchor` urls the answer was given; without them a follow-up searches its topic
/// question for its pages). Errors name the file, the turn (its line for JSON lines) and the
/// field.
pub fn read_history(path: &Path) -> Result<Vec<docent::conversation::Turn>> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|_| Error::format(path.display().to_string(), "expected UTF-8 JSON text"))?;
    let name = path.display().to_string();
    let mut raw: Vec<(String, serde_json::Value)> = Vec::new();
    if text.trim_start().starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
            Error::format(
                &name,
                format!("expected a JSON array of {{\"question\", \"answer\"}} objects: {e}"),
            )
        })?;
        for (i, v) in values.into_iter().enumerate() {
            raw.push((format!("{name}: turn {}", i + 1), v));
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                Error::format(
                    format!("{name}:{}", i + 1),
                    format!("expected a JSON object {{\"question\", \"answer\"}} per line (or one JSON array): {e}"),
                )
            })?;
            raw.push((format!("{name}:{}", i + 1), v));
        }
    }
    let turns = raw.into_iter().map(|(at, v)| turn_of(&at, v)).collect::<Result<Vec<_>>>()?;
    docent::conversation::check_history(&turns, &name)?;
    Ok(turns)
}

/// One earlier turn from its JSON object `{"question", "answer"?, "sources"?}`; `at` names it in
/// errors (file and turn or line).
pub fn turn_of(at: &str, v: serde_json::Value) -> Result<docent::conversation::Turn> {
    use serde_json::Value;
    if !v.is_object() {
        return Err(Error::format(at, format!("expected an object {{\"question\", \"answer\"}}, found {v}")));
    }
    let line: TurnLine = serde_json::from_value(v).map_err(|e| Error::format(at, e.to_string()))?;
    let question = match line.question {
        Some(Value::String(q)) if !q.trim().is_empty() => q,
        Some(Value::String(_)) => return Err(Error::format(at, "field \"question\" is empty")),
        Some(other) => {
            return Err(Error::format(at, format!("field \"question\" must be a string, found {other}")));
        }
        None => return Err(Error::format(at, "missing field \"question\"")),
    };
    let answer = match line.answer {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(a)) => a,
        Some(other) => {
            return Err(Error::format(at, format!("field \"answer\" must be a string, found {other}")));
        }
    };
    let sources = match line.sources {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(urls)) => urls
            .into_iter()
            .map(|u| match u {
                Value::String(u) => Ok(u),
                other => Err(Error::format(
                    at,
                    format!("field \"sources\" must hold page#anchor strings, found {other}"),
                )),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(Error::format(
                at,
                format!("field \"sources\" must be an array of urls, found {other}"),
            ));
        }
    };
    Ok(docent::conversation::Turn { question, answer, sources })
}
