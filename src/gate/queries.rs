//! The calibration queries of a site, generated from its own chunks at index time.
//!
//! Four kinds, all deterministic (a fixed seed) and bounded ([`MAX_CHUNKS`] chunks sampled, so
//! at most 2·[`MAX_CHUNKS`] answerable, 3/2·[`MAX_CHUNKS`] near-miss, [`MAX_CHUNKS`]/3 mixed and
//! [`OFF_TOPIC`]`.len()` off-topic queries, whatever the corpus size):
//!
//! - **answerable** pseudo-questions from a sampled chunk's heading and from one of its sentences,
//!   lightly paraphrased (a question template, words dropped, at most 7 content words kept), so
//!   they are not verbatim copies of the text;
//! - **near-miss** queries: a pseudo-question whose most specific term (highest idf) is swapped
//!   for a technical term of [`TECH_TERMS`] that the corpus does not contain (one in three for a
//!   plain word of [`PLAIN_TERMS`] it does not contain: "database"): the question of a reader of
//!   the same field about something the site does not cover;
//! - **mixed** queries: words of two distant pseudo-questions put together, every term in the
//!   corpus but no chunk about them together (unanswerable questions need not lack a term);
//! - **off-topic** questions from another field entirely ([`OFF_TOPIC`]).

use super::{has_term, salient_terms, Vocabulary};
use crate::index::bm25::Bm25;

/// Chunks sampled for pseudo-questions, at most: 120 (about 240 answerable queries, 180
/// near-miss). More queries fit the model's seven weights no better and cost index time
/// (each one is embedded and searched once).
pub const MAX_CHUNKS: usize = 120;

/// The seed of the generator: the same corpus always gives the same queries.
pub const SEED: u64 = 0x6761_7465_2d31_3700;

/// Technical terms of software documentation's neighbouring fields (databases, containers,
/// frameworks, languages, services, protocols). Near-miss queries use those the corpus does not
/// contain. Written for docent; neither a site's own terms nor any evaluation question's.
pub const TECH_TERMS: &[&str] = &[
    "PostgreSQL",
    "MongoDB",
    "Redis",
    "Cassandra",
    "MariaDB",
    "Neo4j",
    "CouchDB",
    "DynamoDB",
    "Elasticsearch",
    "ClickHouse",
    "Snowflake",
    "Kubernetes",
    "Docker",
    "Podman",
    "Helm",
    "Terraform",
    "Ansible",
    "Puppet",
    "Vagrant",
    "OpenShift",
    "Nomad",
    "Consul",
    "Prometheus",
    "Grafana",
    "Kibana",
    "Jenkins",
    "CircleCI",
    "Bitbucket",
    "Jira",
    "Confluence",
    "Slack",
    "Zapier",
    "Django",
    "Flask",
    "FastAPI",
    "Rails",
    "Laravel",
    "Symfony",
    "Express",
    "NestJS",
    "Angular",
    "React",
    "Vue",
    "Svelte",
    "Ember",
    "jQuery",
    "Bootstrap",
    "Tailwind",
    "Webpack",
    "Vite",
    "Babel",
    "Gradle",
    "Maven",
    "Bazel",
    "SBT",
    "Haskell",
    "Erlang",
    "Elixir",
    "Clojure",
    "Kotlin",
    "Scala",
    "Fortran",
    "COBOL",
    "Perl",
    "Lua",
    "Dart",
    "Flutter",
    "Swift",
    "Xcode",
    "Android",
    "TensorFlow",
    "PyTorch",
    "Keras",
    "Pandas",
    "NumPy",
    "Jupyter",
    "Spark",
    "Hadoop",
    "Kafka",
    "RabbitMQ",
    "ZeroMQ",
    "MQTT",
    "GraphQL",
    "gRPC",
    "Protobuf",
    "Thrift",
    "WebRTC",
    "OAuth",
    "SAML",
    "LDAP",
    "Kerberos",
    "Nginx",
    "HAProxy",
    "Varnish",
    "Lambda",
    "Heroku",
    "Netlify",
    "Vercel",
    "Azure",
    "Cloudflare",
    "Unity",
    "Unreal",
    "Blender",
    "Photoshop",
    "Excel",
    "Salesforce",
    "SAP",
    "WordPress",
    "Drupal",
    "Shopify",
    "Stripe",
    "Twilio",
    "Arduino",
    "Raspberry",
    "Verilog",
    "Matlab",
    "Simulink",
    "Solidity",
    "Ethereum",
    "Bitcoin",
    "Hibernate",
    "Tomcat",
    "WebSphere",
    "Cobra",
    "Kubectl",
    "Istio",
];

/// Plain words of neighbouring fields (common English, whole words of MiniLM's vocabulary):
/// near-miss queries also use those the corpus does not contain, so the calibration sees
/// unanswerable questions whose absent word is an ordinary one ("how do I connect to a
/// database"), which the missing-term rule leaves to the other evidence. Written for docent.
pub const PLAIN_TERMS: &[&str] = &[
    "database",
    "container",
    "printer",
    "smartphone",
    "email",
    "password",
    "cluster",
    "server",
    "browser",
    "keyboard",
    "microphone",
    "camera",
    "payment",
    "calendar",
    "satellite",
    "robot",
    "laptop",
    "tablet",
    "encryption",
    "virus",
    "backup",
    "cloud",
    "dashboard",
    "analytics",
    "newsletter",
    "podcast",
    "video",
    "audio",
    "translation",
    "scanner",
    "battery",
    "drone",
    "sensor",
    "inventory",
    "payroll",
    "accounting",
    "shipping",
    "subscription",
    "forum",
    "ticket",
    "appointment",
    "booking",
    "reservation",
    "recipe",
    "mortgage",
];

/// Questions from other fields than software documentation, each a reader's plain question.
/// Written for docent.
pub const OFF_TOPIC: &[&str] = &[
    "How long should I knead bread dough by hand?",
    "What temperature should a roast chicken reach inside?",
    "How do I get rid of aphids on my roses?",
    "When is the best season to plant tulip bulbs?",
    "How many players are on a rugby union team?",
    "What are the rules of the offside trap in football?",
    "How do I train for a first marathon in sixteen weeks?",
    "Which vaccinations does a puppy need in its first year?",
    "How often should I feed a goldfish?",
    "What is the capital of Mongolia?",
    "Who painted the ceiling of the Sistine Chapel?",
    "When did the Byzantine empire fall?",
    "How do I change a flat tyre on a bicycle?",
    "How often should the oil of a diesel car be changed?",
    "What is a good interest rate for a fixed mortgage?",
    "How do I file a tax return as a freelancer?",
    "What are the symptoms of iron deficiency?",
    "How much sleep does a teenager need?",
    "How do I tune a guitar to drop D?",
    "What is the difference between a violin and a viola?",
    "Which wine goes well with grilled salmon?",
    "How do I remove a red wine stain from a carpet?",
    "How do I knit a cable stitch scarf?",
    "What should I pack for a week of hiking in the Alps?",
    "Do I need a visa to travel to Japan for a holiday?",
    "How do I care for a fiddle leaf fig indoors?",
    "What is the boiling point of water at high altitude?",
    "How do whales sleep without drowning?",
    "How far is the Moon from the Earth?",
    "What causes the northern lights?",
    "How do I write a cover letter for a nursing job?",
    "How can I improve my chess openings?",
    "What are the best exercises for lower back pain?",
    "How do I make sourdough starter from scratch?",
    "How long do hard-boiled eggs keep in the fridge?",
    "How do I repaint a wooden kitchen cabinet?",
    "How do I unclog a bathroom sink drain?",
    "What is the plot of Pride and Prejudice?",
    "How many calories are in a banana?",
    "How do I teach a dog to stop pulling on the leash?",
];

/// What a calibration query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pseudo-question made from the chunk with this id (answerable).
    Answerable(u32),
    /// A pseudo-question with its salient term swapped for one the corpus lacks.
    NearMiss,
    /// A question from another field.
    OffTopic,
    /// Words of two distant pseudo-questions mixed into one: every term is in the corpus, but no
    /// chunk answers them together.
    Mixed,
}

/// One generated query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The query text.
    pub text: String,
    /// Its kind.
    pub kind: Kind,
}

impl Generated {
    /// Whether the corpus answers it.
    pub fn answerable(&self) -> bool {
        matches!(self.kind, Kind::Answerable(_))
    }
}

/// A small deterministic generator (SplitMix64).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Question templates a pseudo-question is put into (`{}`: its words).
const TEMPLATES: &[&str] =
    &["how do I {}", "{}", "what is {}", "how does {} work", "{}?", "can I {}", "where is {} described"];

/// Words of a text: whitespace-separated, with the punctuation around them trimmed.
fn plain_words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether a word carries a term for BM25 (not a stop word).
fn content(word: &str) -> bool {
    !Bm25::analyze(word).is_empty()
}

/// A pseudo-question from `words`: its content words (not numbers) kept with probability 0.7,
/// at most `max`, at least 2 (an inner one dropped when they would be the text's first words as
/// written), and with probability 0.6 one word of another chunk (`pool`) put among them, as a
/// reader's own wording rarely matches the text word for word; `None` when too few remain. Also
/// returns the words kept from the text.
fn paraphrase(words: &[&str], pool: &[String], rng: &mut Rng, max: usize) -> Option<(String, Vec<String>)> {
    let candidates: Vec<&str> =
        words.iter().copied().filter(|w| content(w) && !w.chars().all(|c| c.is_numeric())).collect();
    let mut kept: Vec<&str> = candidates.iter().copied().filter(|_| rng.chance(0.7)).take(max).collect();
    if kept.len() < 2 && !(kept.len() == 1 && words.len() == 1) {
        return None;
    }
    // Never a run of the text as written: drop an inner word when none was dropped.
    if kept.len() >= 3 && candidates.starts_with(&kept) {
        kept.remove(1 + rng.below(kept.len() - 2));
    }
    let own: Vec<String> = kept.iter().map(|w| w.to_lowercase()).collect();
    let mut shown = own.clone();
    if !pool.is_empty() && rng.chance(0.6) {
        let at = rng.below(shown.len() + 1);
        shown.insert(at, pool[rng.below(pool.len())].clone());
    }
    let template = TEMPLATES[rng.below(TEMPLATES.len())];
    Some((template.replace("{}", &shown.join(" ")), own))
}

/// The calibration queries of a corpus whose live chunks are `chunks` (id, heading path joined by
/// ` > `, text), checked against `vocab` for near-miss terms. Deterministic: the same chunks give
/// the same queries.
pub fn generate(chunks: &[(u32, &str, &str)], vocab: &dyn Vocabulary) -> Vec<Generated> {
    let mut rng = Rng::new(SEED);
    // Sample without replacement: a partial Fisher-Yates shuffle of the positions.
    let mut order: Vec<usize> = (0..chunks.len()).collect();
    let take = chunks.len().min(MAX_CHUNKS);
    for i in 0..take {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
    let mut sampled = order[..take].to_vec();
    sampled.sort_unstable();
    // Words of the sampled chunks, for the paraphrases' own wording (one every 7th, bounded).
    let pool: Vec<String> = sampled
        .iter()
        .flat_map(|&i| plain_words(chunks[i].2).into_iter().step_by(7).take(8))
        .filter(|w| content(w) && w.chars().all(char::is_alphabetic) && w.len() >= 4)
        .map(str::to_lowercase)
        .collect();
    let mut out = Vec::new();
    let mut own_words: Vec<Vec<String>> = Vec::new();
    let mut headings_seen = std::collections::BTreeSet::new();
    for &i in &sampled {
        let (id, heading, text) = chunks[i];
        let last = heading.rsplit(" > ").next().unwrap_or_default().trim();
        if !last.is_empty() && headings_seen.insert(last.to_lowercase()) {
            let words = plain_words(last);
            if let Some((q, own)) = paraphrase(&words, &pool, &mut rng, 6) {
                out.push(Generated { text: q, kind: Kind::Answerable(id) });
                own_words.push(own);
            }
        }
        let sentences: Vec<String> = crate::answer::sentences_of(text)
            .into_iter()
            .filter(|s| (5..=40).contains(&plain_words(s).len()))
            .collect();
        if !sentences.is_empty() {
            let s = &sentences[rng.below(sentences.len())];
            if let Some((q, own)) = paraphrase(&plain_words(s), &pool, &mut rng, 7) {
                out.push(Generated { text: q, kind: Kind::Answerable(id) });
                own_words.push(own);
            }
        }
    }
    let lacking = |terms: &[&'static str]| -> Vec<&'static str> {
        terms.iter().copied().filter(|t| salient_terms(t).iter().all(|q| !has_term(q, vocab))).collect()
    };
    let (names, plain) = (lacking(TECH_TERMS), lacking(PLAIN_TERMS));
    let answerable: Vec<String> = out.iter().map(|g| g.text.clone()).collect();
    for (n, q) in answerable.iter().enumerate() {
        // Every other pseudo-question with a name, one in four with a plain word: near-miss
        // queries are about three quarters as many as pseudo-questions.
        let absent = match n % 4 {
            0 | 2 => &names,
            1 => &plain,
            _ => continue,
        };
        if absent.is_empty() {
            continue;
        }
        let Some(target) = salient_terms(q)
            .into_iter()
            .filter(|t| vocab.df(&t.term) > 0)
            .min_by_key(|t| (vocab.df(&t.term), t.term.clone()))
        else {
            continue;
        };
        let term = absent[rng.below(absent.len())];
        let swapped = replace_word(q, &target.surface, term);
        if swapped != *q {
            out.push(Generated { text: swapped, kind: Kind::NearMiss });
        }
    }
    // Mixed: two words of a pseudo-question and two of one far from it in the sample.
    let pseudo = own_words;
    let half = pseudo.len() / 2;
    for i in (0..half).step_by(3) {
        let (a, b) = (&pseudo[i], &pseudo[i + half]);
        if a.len() >= 2 && b.len() >= 2 {
            let words = [a[0].as_str(), b[0].as_str(), a[a.len() - 1].as_str(), b[b.len() - 1].as_str()];
            let template = TEMPLATES[rng.below(TEMPLATES.len())];
            out.push(Generated { text: template.replace("{}", &words.join(" ")), kind: Kind::Mixed });
        }
    }
    for q in OFF_TOPIC {
        out.push(Generated { text: (*q).to_string(), kind: Kind::OffTopic });
    }
    out
}

/// `query` with its first whole-word occurrence of `word` (case-insensitive) replaced by `by`.
fn replace_word(query: &str, word: &str, by: &str) -> String {
    let lower = query.to_lowercase();
    let target = word.to_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(&target) {
        let start = from + p;
        let end = start + target.len();
        let before = lower[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = lower[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after && query.is_char_boundary(start) && query.is_char_boundary(end) {
            return format!("{}{by}{}", &query[..start], &query[end..]);
        }
        from = end;
    }
    query.to_string()
}
