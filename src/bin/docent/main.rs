//! The `docent` command-line tool: index a site at build time, search it, assemble grounded
//! prompts (or stream answers), evaluate retrieval, and prepare model files.
//!
//! Every error ends the process with exit code 1 and one line on stderr: `docent: <message>`.
//!
//! Native only: on wasm32 (where `cargo test --target wasm32-unknown-unknown` still builds every
//! binary of the package) this crate is empty.
//!
//! Design: `docs/design.md`, "Layers" (the native edge) and "Contracts".
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `println!` that ends the process quietly when stdout is closed (e.g. piped into `head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("docent: stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod ask;
mod eval;
mod fragments;
mod gaps;
mod index;
mod load;
mod model;
mod progress;
mod search;
/// The self-contained site folder (index, model files, web runtime).
mod site;

#[derive(Parser)]
#[command(
    name = "docent",
    version,
    about = "Retrieval-augmented generation over your documents: index at build time, ask in the browser or here."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index HTML, Markdown and text files (directories are walked recursively) into DIR, a
    /// self-contained folder for a static site: manifest.json, index.bin, model/ (the files the
    /// browser embeds queries with) and the web runtime (docent.js, the wasm…). Run again, it
    /// re-embeds only new and changed pages.
    Index {
        /// Files or directories to index.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The output directory (created; may lie inside an indexed directory, it is not
        /// indexed). An index already there is reused for unchanged pages.
        #[arg(long)]
        out: PathBuf,
        /// minilm (best quality), static (fast, pairs with BM25) or hashing (no model; tests).
        #[arg(long, default_value = "minilm")]
        embedder: String,
        /// Directory with the prepared model files (default: $DOCENT_MODEL_DIR, ./models, or
        /// `models/` beside the binary).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Prefix for every document url, e.g. `https://example.org/docs/`.
        #[arg(long, default_value = "")]
        base_url: String,
        /// Maximum tokens per chunk (16..=2048).
        #[arg(long, default_value_t = 200)]
        chunk_tokens: usize,
        /// Tokens of overlap between consecutive chunks of a section.
        #[arg(long, default_value_t = 32)]
        overlap: usize,
        /// Folder with the browser runtime to copy into DIR: docent.js, docent_wasm.js,
        /// docent_wasm_bg.wasm and the other .js modules but cli.js (default: $DOCENT_ASSETS,
        /// else ./pkg when it holds docent_wasm_bg.wasm, else <binary's folder>/../share/docent).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Print the summary as one JSON object (counts, files, timings) instead of a sentence.
        #[arg(long)]
        json: bool,
        /// The dense graph above 10,000 chunks: hnsw (docent's own) or instant-distance (see
        /// docs/design.md for which to pick).
        #[arg(long, default_value = "hnsw")]
        graph: String,
        /// How the site folder's text packs, term shards and IVF partitions are read: auto (by
        /// HTTP range requests, a record, a term's postings or a few rows at a time, once the
        /// text outgrows small whole packs: a few thousand chunks), always, or never (for a host
        /// that does not answer range requests; files then grow with the site).
        #[arg(long, default_value = "auto")]
        ranges: String,
        /// An English word list (one word a line; the lower-case ones count) whose words the
        /// gate takes for ordinary words, not names, when a question uses one the pages lack
        /// (default: words.txt in the model directory when there is one, e.g. a copy of
        /// Debian's wamerican list; else the embedder's vocabulary alone).
        #[arg(long)]
        words: Option<PathBuf>,
        /// With ranged term shards: leave out the places of the records in the postings
        /// (fragment version 4), for a reader older than version 5; each question then reads
        /// its hits' pack entries before their records, one fetch stage more.
        #[arg(long)]
        without_places: bool,
    },
    /// Search an index: print the best chunks for QUERY (or for every line of --queries).
    Search {
        /// The index directory written by `docent index`.
        dir: PathBuf,
        /// The query.
        query: Option<String>,
        /// JSON lines with a "q" field; prints one JSON line per query.
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Number of hits.
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// hybrid, dense or lexical.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Read the folder through its fragments (manifest.json, then only the fragments each
        /// query needs, as the browser does) instead of index.bin; prints what was read to stderr.
        #[arg(long)]
        fragments: bool,
    },
    /// Retrieve sources for QUESTION and print the grounded prompt, or stream an answer from an
    /// LLM with --provider/--endpoint/--model (API key from $DOCENT_API_KEY).
    Ask {
        /// The index directory written by `docent index`.
        dir: PathBuf,
        /// The question.
        question: String,
        /// Sources to retrieve (1..=50).
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Token budget of the whole prompt.
        #[arg(long, default_value_t = 2000)]
        budget: usize,
        /// Print the prompt (or the answer and sources) as JSON.
        #[arg(long)]
        json: bool,
        /// openai (any OpenAI-compatible chat completions endpoint), anthropic, or offline (no
        /// LLM: the sentences of the sources that answer the question, as the browser's offline
        /// answer gives them).
        #[arg(long, ignore_case = true)]
        provider: Option<String>,
        /// Base URL of the LLM API, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1.
        #[arg(long, required_if_eq_any = [("provider", "openai"), ("provider", "anthropic")])]
        endpoint: Option<String>,
        /// Model name at the provider.
        #[arg(long, required_if_eq_any = [("provider", "openai"), ("provider", "anthropic")])]
        model: Option<String>,
        /// Count the prompt budget with this tokenizer.json (the target LLM's) instead of the
        /// embedder's.
        #[arg(long)]
        tokenizer: Option<PathBuf>,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Retrieve through the folder's fragments, as the browser does (see `docent search
        /// --help`).
        #[arg(long)]
        fragments: bool,
        /// The conversation so far, oldest turn first: a JSON array of {"question": …,
        /// "answer": …, "sources": [page#anchor, …]} objects, or one such object per line (JSON
        /// lines); "sources" (the urls each answer was given) is optional. QUESTION is then a
        /// follow-up: it is searched with the earlier questions and their sources' pages in view
        /// and the prompt carries the latest turns that fit the budget.
        #[arg(long)]
        history: Option<PathBuf>,
    },
    /// Evaluate retrieval on JSON lines {"q": …, "relevant": [url or url-prefix, …]}: recall@1/5/10,
    /// MRR@10 and the relevance gate's accuracy, for lexical, dense and hybrid retrieval. A line
    /// with "history": [earlier question, …] is a follow-up, searched in its conversation: the
    /// earlier questions are asked first (each turn carries the urls of its first 5 hits, as a
    /// reader's conversation keeps its answers' sources); a history of {"question", "sources"?}
    /// objects is taken as given.
    Eval {
        /// The index directory.
        dir: PathBuf,
        /// The questions file.
        questions: PathBuf,
        /// Hits considered per query (recall@k is reported for 1, 5 and this).
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also search gate thresholds that keep ≥ 95% of answerable questions and flag the most
        /// unanswerable ones, and print them (use a development set, not your test set).
        #[arg(long)]
        calibrate: bool,
        /// With --calibrate: the fraction of answerable questions the gate must keep (0..=1).
        #[arg(long, default_value_t = 0.95)]
        keep: f64,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Retrieve through the folder's fragments, as the browser does (see `docent search
        /// --help`); lexical retrieval then has no dense evidence for the gate.
        #[arg(long)]
        fragments: bool,
        /// Re-fit the site's calibrated gate on the corpus, as `docent index` does, before
        /// evaluating (to measure a change of the calibration without re-indexing; the index
        /// file is not changed). Not with --fragments.
        #[arg(long)]
        refit: bool,
        /// With --refit: the word list of the gate's common words (see `docent index --help`).
        #[arg(long)]
        words: Option<PathBuf>,
        /// Also list the questions the gate got wrong, with their evidence and missing terms.
        #[arg(long)]
        misses: bool,
    },
    /// Group the questions `<docent-ask report="URL">` reported as not covered (JSON lines, one
    /// per question the gate flagged) into a short Markdown report: by missing term, and with
    /// --index by the section each question came nearest to.
    Gaps {
        /// The reports: JSON lines {"question", "missing", "index", "time"} as the widget posts them.
        file: PathBuf,
        /// An index directory: search each question there and group by its best hit's url#anchor.
        #[arg(long)]
        index: Option<PathBuf>,
        /// Print the grouping as JSON instead of Markdown.
        #[arg(long)]
        json: bool,
        /// Terms and sections listed (the rest are counted).
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Example questions per term or section.
        #[arg(long, default_value_t = 3)]
        examples: usize,
        /// Model directory (see `docent index --help`), for --index.
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
    /// Prepare model files from the original all-MiniLM-L6-v2 directory (model.safetensors,
    /// tokenizer.json, config.json): int8 MiniLM and the distilled static table.
    Model {
        /// The original model directory.
        #[arg(long)]
        from: PathBuf,
        /// Where to write the prepared files.
        #[arg(long)]
        out: PathBuf,
        /// Text corpus (directory of .html/.md/.txt) for the static table's token frequencies.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Prepare the int8 MiniLM alone, without distilling the static table (static.bin, the
        /// `static` embedder): a fraction of the time. What ./build.sh demo prepares.
        #[arg(long)]
        no_static: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index {
            paths,
            out,
            embedder,
            model_dir,
            base_url,
            chunk_tokens,
            overlap,
            assets,
            json,
            graph,
            ranges,
            words,
            without_places,
        } => index::cmd_index(&index::IndexArgs {
            paths: &paths,
            out: &out,
            embedder: &embedder,
            model_dir: model_dir.as_deref(),
            base_url: &base_url,
            chunk_tokens,
            overlap,
            assets: assets.as_deref(),
            json,
            graph: &graph,
            ranges: &ranges,
            words: words.as_deref(),
            without_places,
        }),
        Command::Search { dir, query, queries, k, json, mode, model_dir, fragments } => search::cmd_search(
            &dir,
            query.as_deref(),
            queries.as_deref(),
            k,
            json,
            &mode,
            model_dir.as_deref(),
            fragments,
        ),
        Command::Ask {
            dir,
            question,
            k,
            budget,
            json,
            provider,
            endpoint,
            model,
            tokenizer,
            model_dir,
            fragments,
            history,
        } => {
            let offline = provider.as_deref().is_some_and(|p| p.trim().eq_ignore_ascii_case("offline"));
            let llm = provider.as_deref().filter(|_| !offline).zip(endpoint.as_deref()).zip(model.as_deref());
            match provider.as_deref() {
                // A provider spelled so that clap did not ask for --endpoint and --model.
                Some(p) if !offline && llm.is_none() => Err(docent::Error::invalid(
                    "provider",
                    format!("'{}' needs --endpoint and --model (only offline needs neither)", p.trim()),
                )),
                _ => ask::cmd_ask(
                    &dir,
                    &question,
                    k,
                    budget,
                    json,
                    offline,
                    llm,
                    tokenizer.as_deref(),
                    model_dir.as_deref(),
                    fragments,
                    history.as_deref(),
                ),
            }
        }
        Command::Eval {
            dir,
            questions,
            k,
            json,
            calibrate,
            keep,
            model_dir,
            fragments,
            refit,
            words,
            misses,
        } => eval::cmd_eval(
            &dir,
            &questions,
            k,
            json,
            calibrate.then_some(keep),
            model_dir.as_deref(),
            fragments,
            refit,
            words.as_deref(),
            misses,
        ),
        Command::Gaps { file, index, json, top, examples, model_dir } => gaps::cmd_gaps(&gaps::GapsArgs {
            file: &file,
            index: index.as_deref(),
            json,
            top,
            examples,
            model_dir: model_dir.as_deref(),
        }),
        Command::Model { from, out, corpus, no_static } => model::cmd_model(&from, &out, corpus, !no_static),
    };
    if let Err(e) = result {
        eprintln!("docent: {e}");
        std::process::exit(1);
    }
}
