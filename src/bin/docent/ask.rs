//! `docent ask`: the grounded prompt for a question, an answer streamed from an LLM, or the
//! offline answer (`docent::answer`, the browser's offline provider's).

use std::io::Write;
use std::path::Path;

use docent::prompt::{not_mentioned, Prompt, PromptOptions, Source, NOT_COVERED};
use docent::{Error, Result};

use docent::fragments::block_on;
use docent::tokens::TokenCounter;

use crate::load::{load_index, read_file, Site};

#[allow(clippy::too_many_arguments)]
pub fn cmd_ask(
    dir: &Path,
    question: &str,
    k: usize,
    budget: usize,
    json: bool,
    offline: bool,
    llm: Option<((&str, &str), &str)>,
    tokenizer: Option<&Path>,
    flag: Option<&Path>,
    fragments: bool,
    history: Option<&Path>,
) -> Result<()> {
    // Before any retrieval work: a CLI without HTTP cannot call the provider.
    #[cfg(not(feature = "http"))]
    if let Some(((provider, _), _)) = llm {
        return Err(without_http(provider));
    }
    let history = history.map(crate::load::read_history).transpose()?.unwrap_or_default();
    let opts = PromptOptions { k, budget, history, ..PromptOptions::default() };
    let counter = tokenizer.map(|t| TokenCounter::from_json(&read_file(t)?)).transpose()?;
    let prompt = if fragments {
        let site = Site::open(dir, flag, true)?;
        let counter = match (counter, &site.embedder) {
            (Some(c), _) => c,
            (None, Some(e)) => match e.tokenizer() {
                Some(t) => TokenCounter::from_tokenizer(t)?,
                None => TokenCounter::Approx,
            },
            (None, None) => TokenCounter::Approx,
        };
        // The vector embeds what is searched: a follow-up's query formed with its history.
        let v = site.vector(&docent::conversation::retrieval_query(question, &opts.history))?;
        let prompt = block_on(site.index.assemble(&site.src, question, v.as_deref(), &counter, &opts))?;
        eprintln!("docent: {}", site.fetched());
        prompt
    } else {
        let mut engine = load_index(dir, flag)?;
        if let Some(c) = counter {
            engine.set_prompt_counter(c);
        }
        engine.assemble(question, &opts)?
    };
    let Some(((provider, endpoint), model)) = llm else {
        if offline {
            print_offline_answer(&prompt, question, json);
            return Ok(());
        }
        if json {
            outln!("{}", serde_json::to_string_pretty(&prompt).unwrap_or_default());
        } else {
            outln!("=== system ===\n{}\n\n=== user ===\n{}\n", prompt.system, prompt.user);
            outln!(
                "({} tokens, {} sources{})",
                prompt.tokens,
                prompt.sources.len(),
                if prompt.abstained { ", not covered by the documents" } else { "" }
            );
        }
        return Ok(());
    };
    if prompt.abstained {
        print_not_covered(&prompt, json);
        return Ok(());
    }
    stream_llm(&prompt, provider, endpoint, model, json)
}

/// Streams the answer to `prompt` from the LLM at `endpoint` (the `http` feature's client) and
/// prints it with its sources.
#[cfg(feature = "http")]
fn stream_llm(prompt: &Prompt, provider: &str, endpoint: &str, model: &str, json: bool) -> Result<()> {
    let provider = docent::llm::Provider::from_name(provider).map_err(|_| {
        Error::invalid(
            "provider",
            format!(
                "expected 'openai' (or any OpenAI-compatible server), 'anthropic' or 'offline', found '{}'",
                provider.trim()
            ),
        )
    })?;
    let key = std::env::var("DOCENT_API_KEY").ok().filter(|k| !k.is_empty());
    let req = docent::llm::LlmRequest {
        provider,
        endpoint,
        model,
        api_key: key.as_deref(),
        messages: &prompt.messages,
        max_tokens: 1024,
        temperature: Some(0.2),
        timeout: std::time::Duration::from_secs(60),
    };
    let mut stdout = std::io::stdout();
    let completion = docent::llm::stream_answer(&req, &mut |t| {
        if !json {
            let _ = stdout.write_all(t.as_bytes());
            let _ = stdout.flush();
        }
    })?;
    if json {
        outln!(
            "{}",
            serde_json::json!({"answer": completion.text, "complete": completion.complete, "abstained": false, "sources": prompt.sources})
        );
    } else {
        if !completion.complete {
            outln!("\n[incomplete: the stream ended before the answer was finished]");
        }
        outln!("\n\nSources:");
        print_sources(&prompt.sources);
    }
    Ok(())
}

#[cfg(not(feature = "http"))]
fn stream_llm(_: &Prompt, provider: &str, _: &str, _: &str, _: bool) -> Result<()> {
    Err(without_http(provider))
}

/// What `docent ask --provider openai|anthropic` says when this CLI was built without the `http`
/// feature (the CLI `./build.sh demo` builds).
#[cfg(not(feature = "http"))]
fn without_http(provider: &str) -> Error {
    Error::invalid(
        "provider",
        format!(
            "'{}' calls an LLM API over HTTP, which this docent was built without (cargo feature `http`; \
             the CLI of ./build.sh demo leaves it out): build the CLI with ./build.sh setup or \
             `cargo build --features http`, or use --provider offline",
            provider.trim()
        ),
    )
}

/// What `ask` says when the relevance gate found nothing relevant: saying so is the honest
/// answer, and costs no LLM call.
/// When terms of the question occur nowhere in the documents, the answer names them instead.
fn print_not_covered(prompt: &Prompt, json: bool) {
    let msg = if prompt.missing.is_empty() {
        format!("{} (no relevant passage was found).", NOT_COVERED.trim_end_matches('.'))
    } else {
        not_mentioned(&prompt.missing)
    };
    if json {
        outln!("{}", serde_json::json!({"answer": msg, "complete": true, "abstained": true, "sources": []}));
    } else {
        outln!("{msg}");
    }
}

/// `ask --provider offline`: the answer the browser's offline provider gives for this prompt
/// (`docent::answer`, no LLM), then its sources, printed as an LLM's answer is.
fn print_offline_answer(prompt: &Prompt, question: &str, json: bool) {
    if prompt.abstained {
        print_not_covered(prompt, json);
        return;
    }
    let answer = docent::answer::offline_answer_for(prompt, Some(question));
    if json {
        outln!(
            "{}",
            serde_json::json!({"answer": answer.text, "complete": true, "abstained": answer.abstained, "sources": prompt.sources})
        );
    } else {
        outln!("{}\n\nSources:", answer.text);
        print_sources(&prompt.sources);
    }
}

/// `[n] heading (or title) — url`, one line per source.
fn print_sources(sources: &[Source]) {
    for s in sources {
        outln!("[{}] {} — {}", s.n, if s.heading.is_empty() { &s.title } else { &s.heading }, s.url);
    }
}
