//! The JS boundary (`src/wasm/`) under `wasm-bindgen-test`: every exported class and method
//! called through its wasm-bindgen signature with JS option objects, and every error path checked
//! to arrive as a JS `Error` whose message is exactly the core's text (computed from the core
//! itself where the core can produce it, so the two cannot drift apart).
//!
//! Runs only on wasm32 (empty on native):
//! `cargo test --target wasm32-unknown-unknown --test wasm` runs it under Node;
//! with `WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=<chromedriver>` in headless Chromium
//! (`./build.sh test` does both).
#![cfg(target_arch = "wasm32")]

#[path = "decode_cases.rs"]
mod decode_cases;

use std::sync::Arc;

use docent::embed::hashing::Hashing;
use docent::index::dense::{dot_f32_i8, dot_f32_i8_portable, DenseIndex, DenseOptions};
use docent::wasm::{model_files, previous_site, JsDocent, JsVectorIndex, PlatformDecoder};
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// The fixture corpus shared with the native tests: (url, field, content).
const CORPUS: &[(&str, &str, &str)] = &[
    ("bicycle.html", "html", include_str!("fixtures/corpus/bicycle.html")),
    ("bread.txt", "text", include_str!("fixtures/corpus/bread.txt")),
    ("guide/gardening.md", "markdown", include_str!("fixtures/corpus/guide/gardening.md")),
];

/// A JS object `{key: value, ...}` cast to the option type a method expects.
fn obj<T: JsCast>(fields: &[(&str, JsValue)]) -> T {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("Reflect.set on a plain object");
    }
    o.unchecked_into()
}

/// Reads `value[key]`.
fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).expect("Reflect.get")
}

/// What a JS caller sees of a `JsError`: it must be a JS `Error`; returns its message.
fn message_of(e: impl Into<JsValue>) -> String {
    let v: JsValue = e.into();
    let err = v.dyn_ref::<js_sys::Error>().unwrap_or_else(|| panic!("expected a JS Error, found {v:?}"));
    String::from(err.message())
}

/// The message of the error `r` must be, failing if `r` succeeded.
fn err_message<T, E: Into<JsValue>>(r: Result<T, E>, what: &str) -> String {
    match r {
        Ok(_) => panic!("{what}: expected an error, got Ok"),
        Err(e) => message_of(e),
    }
}

/// Unwraps a boundary result, showing the JS error message on failure.
fn ok<T, E: Into<JsValue>>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {}", message_of(e)),
    }
}

/// `new Docent({embedder: "hashing"})` with the fixture corpus added and built.
fn corpus_index() -> JsDocent {
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    for (url, field, content) in CORPUS {
        let n = ok(d.add_document(obj(&[("url", (*url).into()), (*field, (*content).into())])), url);
        assert!(n >= 1, "{url}: {n} chunks");
    }
    ok(d.build(None), "build");
    d
}

/// The hashing embedder the core uses by default, for computing expected messages.
fn core_hashing(dim: usize) -> Arc<Hashing> {
    Arc::new(Hashing::new(dim).expect("a valid hashing dimension"))
}

/// The core loader's error for index bytes that must not load (the reference for `fromBytes`).
fn core_load(b: &[u8]) -> String {
    docent::Docent::embedder_of(b, "index")
        .and_then(|info| docent::Docent::from_bytes(b, core_hashing(info.dim), "index"))
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[wasm_bindgen_test]
fn docent_builds_searches_assembles_and_round_trips() {
    let d = corpus_index();

    // build() reports progress through the callback, ending with the gate's calibration.
    let mut cb = JsDocent::new(obj(&[("embedder", "hashing".into())])).map_err(message_of).unwrap();
    ok(cb.add_document(obj(&[("url", "a.txt".into()), ("text", "wheels and spokes".into())])), "add");
    let calls = Array::new();
    let record =
        Function::new_with_args("stage, done, total", "this.push([stage, done, total])").bind0(&calls);
    ok(cb.build(Some(record.unchecked_into())), "build with progress");
    assert!(calls.length() >= 2, "progress was reported {} times", calls.length());
    let last: Array = calls.get(calls.length() - 1).unchecked_into();
    assert_eq!(last.get(0).as_string().as_deref(), Some("calibrate"));
    assert_eq!(last.get(1), last.get(2), "the last stage is complete");

    let stats = ok(d.stats(), "stats");
    let stats: &JsValue = &stats;
    assert_eq!(get(stats, "documents").as_f64(), Some(3.0));
    assert_eq!(get(stats, "pending").as_f64(), Some(0.0));
    let chunks = get(stats, "chunks").as_f64().expect("stats.chunks is a number");
    assert!(chunks >= 3.0, "{chunks} chunks");
    assert_eq!(get(&get(stats, "embedder"), "kind").as_string().as_deref(), Some("hashing"));
    assert_eq!(get(&get(stats, "embedder"), "dim").as_f64(), Some(256.0));
    assert!(get(stats, "denseKind").is_string());
    assert_eq!(d.dim(), 256);

    let result = ok(d.search("tyre pressure", Some(obj(&[("k", 3.into())]))), "search");
    let result: &JsValue = &result;
    assert_eq!(get(result, "answerable").as_bool(), Some(true));
    let hits: Array = get(result, "hits").unchecked_into();
    assert!(hits.length() >= 1 && hits.length() <= 3, "{} hits", hits.length());
    let top = hits.get(0);
    assert_eq!(get(&top, "url").as_string().as_deref(), Some("bicycle.html#tyres"));
    assert!(get(&top, "score").as_f64().is_some_and(|s| s.is_finite()));
    let lexical = ok(
        d.search("sourdough starter", Some(obj(&[("k", 2.into()), ("mode", "lexical".into())]))),
        "lexical search",
    );
    let lexical: Array = get(&lexical, "hits").unchecked_into();
    assert_eq!(
        get(&lexical.get(0), "url").as_string().map(|u| u.starts_with("bread.txt")),
        Some(true),
        "lexical search for bread finds bread.txt"
    );

    let prompt = ok(d.assemble("How often should I check tyre pressure?", None), "assemble");
    let prompt: &JsValue = &prompt;
    assert_eq!(get(prompt, "abstained").as_bool(), Some(false));
    let user = get(prompt, "user").as_string().expect("prompt.user is a string");
    assert!(user.contains("bicycle.html#tyres"), "the prompt cites the source: {user}");
    let messages: Array = get(prompt, "messages").unchecked_into();
    assert_eq!(messages.length(), 2);
    assert_eq!(get(&messages.get(0), "role").as_string().as_deref(), Some("system"));
    assert!(get(prompt, "tokens").as_f64().is_some_and(|t| t > 0.0));
    let sources: Array = get(prompt, "sources").unchecked_into();
    assert_eq!(get(&sources.get(0), "n").as_f64(), Some(1.0));

    // embed: texts.length × dim floats, each row unit length (or zero for no tokens).
    let v = ok(d.embed(vec!["tyre pressure".into(), "bread".into()]), "embed");
    assert_eq!(v.len(), 2 * 256);
    let norm: f32 = v[..256].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "row 0 has norm {norm}");

    // toBytes / fromBytes round trip: same results.
    let bytes = ok(d.to_bytes(), "toBytes");
    let loaded = ok(JsDocent::from_bytes(&bytes, None), "fromBytes");
    let again = ok(loaded.search("tyre pressure", Some(obj(&[("k", 3.into())]))), "search after load");
    let again: Array = get(&again, "hits").unchecked_into();
    assert_eq!(again.length(), hits.length());
    for i in 0..hits.length() {
        assert_eq!(get(&again.get(i), "url").as_string(), get(&hits.get(i), "url").as_string());
        assert_eq!(get(&again.get(i), "score").as_f64(), get(&hits.get(i), "score").as_f64());
    }
    assert_eq!(ok(loaded.to_bytes(), "toBytes after load"), bytes, "serialisation is stable");

    // Options given as a Uint8Array-bearing model object are ignored for hashing.
    let model: JsValue = obj::<Object>(&[("tokenizer", Uint8Array::new_with_length(0).into())]).into();
    let with_model =
        JsDocent::new(obj(&[("embedder", "hashing".into()), ("dim", 64.into()), ("model", model)]));
    assert_eq!(ok(with_model, "new Docent with model").dim(), 64);
}

#[wasm_bindgen_test]
fn vector_index_builds_searches_and_round_trips() {
    let dim = 4;
    // Row i points mostly along axis i % 4, so a query along an axis finds its rows first.
    let vectors: Vec<f32> = (0..40)
        .flat_map(|i| (0..dim).map(move |j| if j == i % dim { 1.0 } else { 0.01 * (i as f32 + j as f32) }))
        .collect();
    for threshold in [1_000_usize, 2] {
        let options = obj(&[("flatThreshold", (threshold as u32).into()), ("seed", 7.into())]);
        let index = ok(JsVectorIndex::build(&vectors, dim, Some(options)), "VectorIndex.build");
        assert_eq!(index.len(), 40);
        assert_eq!(index.dim(), dim);
        let result = ok(index.search(&[0.0, 0.0, 1.0, 0.0], 5, None), "VectorIndex.search");
        let ids: js_sys::Uint32Array = get(&result, "ids").dyn_into().expect("ids is a Uint32Array");
        let scores: js_sys::Float32Array =
            get(&result, "scores").dyn_into().expect("scores is a Float32Array");
        assert_eq!(ids.length(), 5);
        assert_eq!(scores.length(), 5);
        let ids = ids.to_vec();
        assert!(ids.iter().all(|id| id % 4 == 2), "threshold {threshold}: {ids:?}");
        let scores = scores.to_vec();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

        let bytes = ok(index.to_bytes(), "VectorIndex.toBytes");
        let loaded = ok(JsVectorIndex::from_bytes(&bytes), "VectorIndex.fromBytes");
        assert_eq!((loaded.len(), loaded.dim()), (40, dim));
        let again = ok(loaded.search(&[0.0, 0.0, 1.0, 0.0], 5, None), "search after load");
        let again: js_sys::Uint32Array = get(&again, "ids").unchecked_into();
        assert_eq!(again.to_vec(), ids);
    }
    let none = ok(JsVectorIndex::build(&vectors, dim, None), "build without options");
    assert_eq!(none.len(), 40);
}

/// instant-distance's graph in wasm: rayon runs its parallel build on the module's one thread,
/// rand 0.8 seeds through getrandom 0.2's `js` backend; the graph goes into its own section.
#[cfg(feature = "instant-distance")]
#[wasm_bindgen_test]
fn vector_index_builds_an_instant_distance_graph() {
    let (dim, n) = (16, 2_000);
    // Rows on a spiral of 16 dimensions: a deterministic, clustered-enough set.
    let vectors: Vec<f32> =
        (0..n).flat_map(|i| (0..dim).map(move |j| ((i * (j + 3)) as f32 * 0.037).sin())).collect();
    let options =
        obj(&[("flatThreshold", 0.into()), ("graph", "instant-distance".into()), ("seed", 5.into())]);
    let index = ok(JsVectorIndex::build(&vectors, dim, Some(options)), "build instant-distance");
    assert_eq!(index.kind(), "instant-distance");
    let flat = ok(JsVectorIndex::build(&vectors, dim, None), "build flat");
    assert_eq!(flat.kind(), "flat");
    let bytes = ok(index.to_bytes(), "toBytes");
    let loaded = ok(JsVectorIndex::from_bytes(&bytes), "fromBytes");
    assert_eq!(loaded.kind(), "instant-distance");
    let ids = |ix: &JsVectorIndex, q: &[f32]| -> Vec<u32> {
        let r = ok(ix.search(q, 10, None), "search");
        get(&r, "ids").unchecked_into::<js_sys::Uint32Array>().to_vec()
    };
    let (mut hit, mut all) = (0, 0);
    for i in (0..n).step_by(40) {
        let q: Vec<f32> = vectors[i * dim..(i + 1) * dim].iter().map(|x| x + 0.01).collect();
        let truth = ids(&flat, &q);
        let got = ids(&index, &q);
        assert_eq!(ids(&loaded, &q), got, "query {i} after fromBytes");
        all += truth.len();
        hit += truth.iter().filter(|t| got.contains(t)).count();
    }
    let recall = hit as f64 / all as f64;
    assert!(recall >= 0.95, "instant-distance recall@10 against the flat scan {recall:.3} < 0.95");
    let e =
        err_message(JsVectorIndex::build(&vectors, dim, Some(obj(&[("graph", "ivf".into())]))), "bad graph");
    assert!(e.contains("hnsw, instant-distance"), "{e}");
}

#[wasm_bindgen_test]
fn docent_errors_are_js_errors_with_the_core_message() {
    let d = corpus_index();
    let core = {
        let mut c = docent::Docent::new(core_hashing(256), docent::Options::default()).expect("core engine");
        for (url, field, content) in CORPUS {
            let fmt = match *field {
                "html" => docent::ingest::Format::Html,
                "markdown" => docent::ingest::Format::Markdown,
                _ => docent::ingest::Format::Text,
            };
            if let Ok(docent::ingest::Ingested::Document(doc)) = docent::ingest::parse(url, url, content, fmt)
            {
                c.add_document(doc).expect("core add_document");
            }
        }
        c.build(&mut |_| {}).expect("core build");
        c
    };
    let search = |q: &str, opts: &[(&str, JsValue)]| err_message(d.search(q, Some(obj(opts))), q);

    // k = 0: the boundary's message is the core's.
    let expected = core.search("tyres", 0).map(|_| ()).unwrap_err().to_string();
    assert_eq!(expected, "invalid k: expected 1..=1000 results, found 0");
    assert_eq!(search("tyres", &[("k", 0.into())]), expected);
    assert_eq!(
        err_message(d.assemble("tyres", Some(obj(&[("k", 51.into())]))), "assemble k 51"),
        "invalid k: expected 1..=50 sources, found 51"
    );

    // Empty query.
    let expected = core.search("   ", 3).map(|_| ()).unwrap_err().to_string();
    assert_eq!(expected, "invalid query: expected non-empty text");
    assert_eq!(search("   ", &[("k", 3.into())]), expected);
    assert_eq!(search("", &[]), expected);

    // Unknown embedder / missing embedder / missing model files / bad options.
    let expected = docent::embed::EmbedderKind::from_name("bert").map(|_| ()).unwrap_err().to_string();
    assert_eq!(
        expected,
        "invalid embedder: expected one of minilm, static, hashing, vectors; found \"bert\""
    );
    assert_eq!(err_message(JsDocent::new(obj(&[("embedder", "bert".into())])), "bert"), expected);
    assert_eq!(
        err_message(JsDocent::new(obj(&[])), "no embedder"),
        "invalid embedder: expected one of \"hashing\", \"static\", \"minilm\" in options.embedder, found none"
    );
    assert_eq!(
        err_message(JsDocent::new(obj(&[("embedder", "static".into())])), "static without files"),
        "invalid model.table: the static embedder needs the bytes of static.bin (a Uint8Array), found none"
    );
    assert_eq!(
        err_message(
            JsDocent::new(obj(&[("embedder", "hashing".into()), ("chunkTokens", 8.into())])),
            "chunk 8"
        ),
        "invalid chunk max_tokens: expected 16..=2048, found 8"
    );
    assert_eq!(
        err_message(JsDocent::new(JsValue::from(3).unchecked_into()), "options is a number"),
        "invalid options: expected an object, found a number"
    );
    assert_eq!(
        search("tyres", &[("top", 3.into())]),
        "invalid search options: unknown field \"top\", expected one of k, mode"
    );
    assert_eq!(
        search("tyres", &[("mode", "fuzzy".into())]),
        docent::retrieve::Mode::from_name("fuzzy").map(|_| ()).unwrap_err().to_string()
    );

    // Empty and malformed documents.
    let mut d2 = JsDocent::new(obj(&[("embedder", "hashing".into())])).map_err(message_of).unwrap();
    let add = |d: &mut JsDocent, fields: &[(&str, JsValue)]| {
        err_message(d.add_document(obj(fields)), "addDocument")
    };
    assert_eq!(
        add(&mut d2, &[("url", "empty.md".into()), ("markdown", "".into())]),
        "document empty.md: no text to index (the document is empty after extraction)"
    );
    assert_eq!(
        add(&mut d2, &[("url", "blank.txt".into()), ("text", "   \n ".into())]),
        "document blank.txt: no text to index (the document is empty after extraction)"
    );
    assert_eq!(
        add(&mut d2, &[("url", "".into()), ("text", "words".into())]),
        "document (no url): the url is empty"
    );
    assert_eq!(
        add(&mut d2, &[("url", "none.md".into())]),
        "document none.md: expected one of the fields text, html, markdown or pdf, found none"
    );
    assert_eq!(
        add(&mut d2, &[("url", "both.md".into()), ("markdown", "# a".into()), ("text", "b".into())]),
        "document both.md: expected exactly one of the fields text, html, markdown or pdf, found several"
    );
    assert_eq!(
        add(&mut d2, &[("url", "x.md".into()), ("markdwn", "# typo".into())]),
        "invalid document: unknown field \"markdwn\", expected one of url, title, text, html, markdown, pdf"
    );

    // Searching before build.
    assert_eq!(
        err_message(d2.search("tyres", None), "search before build"),
        docent::Error::NotBuilt.to_string()
    );

    // A throwing progress callback: its own exception comes back, not a docent error.
    ok(d2.add_document(obj(&[("url", "a.txt".into()), ("text", "some words".into())])), "add");
    let boom = Function::new_no_args("throw new RangeError('stop')");
    let thrown = match d2.build(Some(boom.unchecked_into())) {
        Ok(()) => panic!("build with a throwing callback succeeded"),
        Err(e) => e,
    };
    assert!(
        thrown.is_instance_of::<js_sys::RangeError>(),
        "the callback's RangeError is rethrown: {thrown:?}"
    );

    // Corrupted, truncated and foreign bytes: the same message as the core's loader.
    let bytes = ok(d.to_bytes(), "toBytes");
    let mut corrupted = bytes.clone();
    let n = corrupted.len();
    corrupted[n - 3] ^= 0x40;
    let truncated = &bytes[..10];
    let foreign = b"not an index at all, just text".as_slice();
    for (what, b) in [("corrupted", &corrupted[..]), ("truncated", truncated), ("foreign", foreign)] {
        let got = err_message(JsDocent::from_bytes(b, None), what);
        assert!(got.starts_with("index: "), "{what}: {got}");
        assert_eq!(got, core_load(b), "{what}");
    }
}

#[wasm_bindgen_test]
fn vector_index_errors_are_js_errors_with_the_core_message() {
    let dim = 8;
    let vectors = vec![0.5_f32; 4 * dim];
    let index = ok(JsVectorIndex::build(&vectors, dim, None), "build");
    let core = DenseIndex::build(&vectors, dim, &DenseOptions::default()).expect("core build");

    // k = 0 and k too large, same rule and text as the engine's search.
    assert_eq!(
        err_message(index.search(&vec![0.5; dim], 0, None), "k 0"),
        "invalid k: expected 1..=1000 results, found 0"
    );
    assert_eq!(
        err_message(index.search(&vec![0.5; dim], 1001, None), "k 1001"),
        "invalid k: expected 1..=1000 results, found 1001"
    );

    // Wrong query dimension and NaN query.
    let wrong = vec![0.5; dim + 1];
    let expected = core.search(&wrong, 3).map(|_| ()).unwrap_err().to_string();
    assert!(expected.starts_with("invalid vector: "), "{expected}");
    assert_eq!(err_message(index.search(&wrong, 3, None), "query dim 9"), expected);
    let mut nan_query = vec![0.5; dim];
    nan_query[2] = f32::NAN;
    let expected = core.search(&nan_query, 3).map(|_| ()).unwrap_err().to_string();
    assert_eq!(err_message(index.search(&nan_query, 3, Some(8)), "NaN query"), expected);

    // Ragged and NaN vectors, dimension 0, bad options.
    let build = |v: &[f32], dim: usize| err_message(JsVectorIndex::build(v, dim, None), "build");
    assert_eq!(build(&[0.0; 10], 4), "invalid vector: vectors has 10 floats, not a multiple of dim 4");
    assert_eq!(
        build(&[1.0, 2.0, f32::NAN, 4.0], 2),
        "invalid vector: vectors row 1 column 0 is NaN; every value must be finite"
    );
    assert_eq!(
        build(&[1.0, f32::INFINITY], 2),
        DenseIndex::build(&[1.0, f32::INFINITY], 2, &DenseOptions::default())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    );
    assert_eq!(build(&[1.0, 2.0], 0), "invalid dim: expected a dimension of at least 1, found 0");
    assert_eq!(
        err_message(JsVectorIndex::build(&vectors, dim, Some(obj(&[("efSearh", 3.into())]))), "typo"),
        "invalid vector index options: unknown field \"efSearh\", expected one of flatThreshold, m, efConstruction, efSearch, seed, heuristic, graph"
    );

    // Corrupted bytes, and a Docent index given to VectorIndex.fromBytes.
    let bytes = ok(index.to_bytes(), "toBytes");
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let got = err_message(JsVectorIndex::from_bytes(&bad), "corrupted");
    let expected = docent::format::read(&bad, "vector index").map(|_| ()).unwrap_err().to_string();
    assert_eq!(got, expected);
    assert!(got.starts_with("vector index: "), "{got}");
    let docent_bytes = ok(corpus_index().to_bytes(), "Docent.toBytes");
    assert_eq!(
        err_message(JsVectorIndex::from_bytes(&docent_bytes), "a Docent index"),
        "vector index: the section 'vectors' is missing"
    );
    assert_eq!(
        err_message(JsVectorIndex::from_bytes(&[]), "empty"),
        docent::format::read(&[], "vector index").map(|_| ()).unwrap_err().to_string()
    );
}

/// `JsError` is what every fallible export returns; it must reach JS as an `Error`.
/// The SIMD128 f32 × int8 dot product (dense scores in wasm) adds in exactly the order of the
/// portable one that native builds run, so wasm and native give bit-identical scores for the same
/// query and rows (IEEE f32 on both, no FMA).
#[wasm_bindgen_test]
fn dense_simd_dot_adds_in_the_portable_order_bit_for_bit() {
    let q: Vec<f32> =
        (0..200).map(|i| ((i * 7919 % 1000) as f32 / 37.0).sin() * (1 + i % 7) as f32).collect();
    let c: Vec<i8> = (0..200).map(|i| ((i * 91 + 5) % 255 - 127) as i8).collect();
    for n in 0..q.len() {
        let simd = dot_f32_i8(&q[..n], &c[..n]);
        let portable = dot_f32_i8_portable(&q[..n], &c[..n]);
        assert_eq!(simd.to_bits(), portable.to_bits(), "length {n}: {simd} vs {portable}");
    }
}

/// The SIMD128 integer matmul of the MiniLM forward (weights packed in panels of four channels)
/// gives the bits of the portable reference, as the native back ends do: exact integer sums, the
/// same f32 finish. Shapes cover the row tail (rows not a multiple of four), one panel pair and
/// MiniLM's widths.
#[wasm_bindgen_test]
fn minilm_linear_layers_equal_the_portable_reference_bit_for_bit() {
    for (seed, rows, n, k) in
        [(1, 1, 8, 16), (2, 7, 16, 48), (3, 70, 24, 384), (4, 131, 8, 1536), (5, 5, 1152, 384)]
    {
        assert_eq!(
            docent::embed::kernels::check_linear(seed, rows, n, k),
            Ok(()),
            "seed {seed}, {rows} rows, n {n}, k {k}"
        );
    }
}

#[wasm_bindgen_test]
fn js_error_is_a_js_error() {
    let e = JsError::new("plain");
    assert_eq!(message_of(e), "plain");
}

// ---------------------------------------------------------------------------------------------
// Hostile input through the boundary (the native matrix is tests/hostile.rs): every refusal is a
// JS Error with the core's message, every accepted input leaves a working index, and nothing
// panics (a panic in wasm aborts the module; the panic hook would print it).

/// A core engine with the hashing embedder (256-d) over the same documents, for expected messages.
fn core_engine(docs: &[(&str, &str)]) -> docent::Docent {
    let mut c = docent::Docent::new(core_hashing(256), docent::Options::default()).expect("core engine");
    for (url, text) in docs {
        c.add_document(docent::ingest::text::parse(url, url, text).expect("text")).expect("add");
    }
    c.build(&mut |_| {}).expect("build");
    c
}

/// Adds `(url, field, content)` documents to a new hashing index and builds it.
fn js_index(docs: &[(&str, &str, &str)]) -> JsDocent {
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    for (url, field, content) in docs {
        ok(d.add_document(obj(&[("url", (*url).into()), (*field, (*content).into())])), url);
    }
    ok(d.build(None), "build");
    d
}

/// Hits of a search as (url, text) pairs.
fn hits(d: &JsDocent, q: &str, k: u32) -> Vec<(String, String)> {
    let r = ok(d.search(q, Some(obj(&[("k", k.into())]))), q);
    let hits: Array = get(&r, "hits").unchecked_into();
    hits.iter()
        .map(|h| {
            (get(&h, "url").as_string().unwrap_or_default(), get(&h, "text").as_string().unwrap_or_default())
        })
        .collect()
}

#[wasm_bindgen_test]
fn hostile_documents_and_queries_through_the_boundary() {
    let mut d = js_index(&[("water.txt", "text", "Tomatoes need deep watering twice a week in summer.")]);
    let before = ok(d.to_bytes(), "toBytes");
    let add = |d: &mut JsDocent, url: &str, field: &str, content: &str| {
        d.add_document(obj(&[("url", url.into()), (field, content.into())]))
    };

    // Binary content: refused, the index unchanged.
    assert_eq!(
        err_message(add(&mut d, "logo.md", "markdown", "\u{89}PNG\r\n\u{1a}\n\0\0\0\rIHDR"), "binary"),
        "document logo.md: binary content (a NUL byte at offset 9), not text; not indexed"
    );
    assert_eq!(ok(d.to_bytes(), "toBytes"), before, "a refused document changed the index");

    // 100k nested elements: wasm's stack is small, so any recursion would trap here.
    let n = 100_000;
    let deep = format!("<h2 id=deep>Deep</h2>{}kiwifruit{}", "<div>".repeat(n), "</div>".repeat(n));
    ok(add(&mut d, "deep.html", "html", &deep), "100k nested divs");
    let md = format!("# Deep\n\n{} kiwifruit orchards\n", ">".repeat(n));
    ok(add(&mut d, "deep.md", "markdown", &md), "100k nested quotes");

    // </script> tricks: only what a browser shows is indexed.
    let tricky = r#"<main><script>var b = "</scr" + "ipt> LEAK1"; var c = "<!--<script>";</script>
        <script>/* </script */ var d = 'LEAK2';</script><template><p>LEAK3</p></template>
        <p>Passionfruit vines need a trellis.</p></main>"#;
    ok(add(&mut d, "script.html", "html", tricky), "script tricks");
    ok(d.build(None), "build");
    let found = hits(&d, "kiwifruit passionfruit trellis", 10);
    let urls: Vec<&str> = found.iter().map(|h| h.0.as_str()).collect();
    for want in ["deep.html#deep", "deep.md#deep", "script.html"] {
        assert!(urls.contains(&want), "{want} not found: {urls:?}");
    }
    assert!(found.iter().all(|h| !h.1.contains("LEAK")), "{found:?}");

    // Zero-width and RTL: ignored inside words, a query of only them is empty.
    ok(
        add(
            &mut d,
            "zw.txt",
            "text",
            "Reset the pass\u{200b}word with the pin\u{2060}hole button. שלום עולם",
        ),
        "zw",
    );
    assert_eq!(hits(&d, "password pinhole", 1)[0].0, "zw.txt");
    assert_eq!(hits(&d, "\u{200f}שלום", 1)[0].0, "zw.txt");
    let expected =
        core_engine(&[("a", "x")]).search("\u{200b}\u{202e}", 3).map(|_| ()).unwrap_err().to_string();
    assert_eq!(expected, "invalid query: expected non-empty text");
    assert_eq!(err_message(d.search("\u{200b}\u{202e} \u{feff}", None), "invisible query"), expected);

    // A 100k-character question: searched; the default prompt budget cannot hold it.
    let long: String = "tomatoes need deep watering twice a week ".chars().cycle().take(100_000).collect();
    assert_eq!(hits(&d, &long, 3)[0].0, "water.txt");
    let core = core_engine(&[("water.txt", "Tomatoes need deep watering twice a week in summer.")]);
    let expected =
        core.assemble(&long, &docent::prompt::PromptOptions::default()).map(|_| ()).unwrap_err().to_string();
    assert!(
        expected
            .starts_with("invalid budget: 2000 tokens is less than the instructions and question alone ("),
        "{expected}"
    );
    assert_eq!(err_message(d.assemble(&long, None), "100k question"), expected);

    // k beyond the corpus returns what there is; k = 0 and 1001 are refused.
    let stats = ok(d.stats(), "stats");
    let chunks = get(&stats, "chunks").as_f64().unwrap_or_default() as usize;
    assert_eq!(hits(&d, "kiwifruit", 1000).len(), chunks);
    for k in [0u32, 1001] {
        assert_eq!(
            err_message(d.search("kiwifruit", Some(obj(&[("k", k.into())]))), "k"),
            format!("invalid k: expected 1..=1000 results, found {k}")
        );
    }
}

/// The browser build's size limits: a document over 64 MiB and an index of more chunks than it
/// can hold are refused with a message, before the work that would exhaust the 4 GiB memory.
#[wasm_bindgen_test]
fn size_limits_refuse_before_the_memory_ceiling() {
    // The core's default is the native one on every target; the edge sets `Limits::BROWSER` on
    // every engine it creates or loads (the messages below come from it).
    assert_eq!(docent::Limits::default(), docent::Limits::NATIVE);
    assert_eq!(docent::Limits::BROWSER.max_document_bytes, docent::Limits::MAX_DOCUMENT_BYTES_WASM);
    let mut d = js_index(&[("a.txt", "text", "Tomatoes need water.")]);
    let before = ok(d.to_bytes(), "toBytes");
    let big = "word ".repeat(docent::Limits::MAX_DOCUMENT_BYTES_WASM / 5 + 1);
    assert_eq!(
        err_message(d.add_document(obj(&[("url", "big.txt".into()), ("text", big.as_str().into())])), "64 MiB"),
        format!(
            "document big.txt: {} bytes of text; at most 67108864 bytes (64 MiB) fit in one document in the browser build (wasm32 memory is at most 4 GiB); split it into several documents",
            big.len()
        )
    );
    drop(big);
    assert_eq!(ok(d.to_bytes(), "toBytes"), before);

    // An index whose header promises more chunks than fit is refused before it is decoded.
    let sections = docent::format::read(&before, "t").expect("read");
    let meta =
        std::str::from_utf8(sections.iter().find(|s| s.name == "meta").expect("meta").body).expect("utf8");
    let too_many = docent::Limits::MAX_CHUNKS_WASM + 1;
    let meta = meta.replace("\"chunks\":1", &format!("\"chunks\":{too_many}"));
    let parts: Vec<(&str, &[u8])> = sections
        .iter()
        .map(|s| (s.name.as_str(), if s.name == "meta" { meta.as_bytes() } else { s.body }))
        .collect();
    let crafted = docent::format::write(&parts);
    assert_eq!(
        err_message(JsDocent::from_bytes(&crafted, None), "too many chunks"),
        format!("index: the index holds {too_many} chunks; at most 500000 can be loaded in the browser build (wasm32 memory is at most 4 GiB); search it natively with `docent search`, or split the corpus")
    );
    // `reuseFrom` loads the previous index with the same limits: nothing reused, and why.
    let mut next = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    assert_eq!(
        ok(next.reuse_from(&crafted), "reuseFrom"),
        Some(format!("the previous index could not be loaded: previous index: the index holds {too_many} chunks; at most 500000 can be loaded in the browser build (wasm32 memory is at most 4 GiB); search it natively with `docent search`, or split the corpus"))
    );
}

/// Damaged and crafted index files through `fromBytes`: the core's exact message every time.
#[wasm_bindgen_test]
fn damaged_index_files_through_the_boundary() {
    let bytes = ok(js_index(&[("a.txt", "text", "Tomatoes need water.")]).to_bytes(), "toBytes");
    // Newer version.
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&4u32.to_le_bytes());
    let got = err_message(JsDocent::from_bytes(&newer, None), "newer");
    assert_eq!(got, "index: unsupported index format version 4 (this build of docent reads version 2 or 3); rebuild the index with this version of docent");
    assert_eq!(err_message(JsDocent::embedder_of(&newer), "embedderOf newer"), got);
    // Truncated at every section boundary (and inside each section).
    for s in docent::format::read(&bytes, "t").expect("read") {
        let start = s.body.as_ptr() as usize - bytes.as_ptr() as usize;
        for cut in [start, start + s.body.len() / 2] {
            let got = err_message(JsDocent::from_bytes(&bytes[..cut], None), "truncated");
            assert_eq!(got, core_load(&bytes[..cut]), "cut at {cut}");
            assert!(
                got.starts_with(&format!("index: truncated: section '{}' needs bytes {start}..", s.name)),
                "{got}"
            );
        }
    }
    // One flipped byte, every 7th position.
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0x04;
        assert_eq!(err_message(JsDocent::from_bytes(&b, None), "flipped"), core_load(&b), "byte {i}");
    }
    // Sections that pass their checksums but contradict themselves.
    let sections = docent::format::read(&bytes, "t").expect("read");
    let dense =
        postcard::to_allocvec(&(256usize, vec![1i8; 256], vec![0.5f32; 3], None::<u8>)).expect("encode");
    let parts: Vec<(&str, &[u8])> = sections
        .iter()
        .map(|s| (s.name.as_str(), if s.name == "dense" { &dense[..] } else { s.body }))
        .collect();
    let crafted = docent::format::write(&parts);
    assert_eq!(
        err_message(JsDocent::from_bytes(&crafted, None), "crafted dense"),
        "index: section 'dense' could not be decoded: corrupted dense index: 3 scales of 256 dimensions but 256 codes"
    );
    let vectors = docent::format::write(&[("vectors", &dense[..])]);
    assert_eq!(
        err_message(JsVectorIndex::from_bytes(&vectors), "crafted vectors"),
        "vector index: section 'vectors' could not be decoded: corrupted dense index: 3 scales of 256 dimensions but 256 codes"
    );
    assert_eq!(
        err_message(JsVectorIndex::build(&[], 70_000, None), "dim 70000"),
        "invalid dim: expected a dimension of at most 65536, found 70000"
    );
}

/// Building and dropping (what `free()` does) 20 indexes must not keep growing the memory: wasm
/// memory never shrinks, but after the first rounds every allocation reuses freed memory.
#[wasm_bindgen_test]
fn memory_stays_flat_over_20_build_and_free_rounds() {
    let mut sizes = Vec::new();
    for round in 0..20 {
        let d = corpus_index();
        let bytes = ok(d.to_bytes(), "toBytes");
        let loaded = ok(JsDocent::from_bytes(&bytes, None), "fromBytes");
        assert!(!hits(&loaded, "tyres pressure", 3).is_empty(), "round {round}");
        drop((d, loaded, bytes));
        sizes.push(docent::wasm::memory_bytes());
    }
    let settled = sizes[4];
    assert!(sizes[4..].iter().all(|&s| s == settled), "memory grew after round 5: {sizes:?}");
}

#[path = "golden_rows.rs"]
mod golden;

/// The same rows, options and hash as `index::hnsw_golden_graph_is_the_same_on_every_target`
/// (native): the wasm build writes the same HNSW index byte for byte.
#[wasm_bindgen_test]
fn hnsw_graph_is_byte_identical_to_the_native_build() {
    let rows = golden::golden_rows();
    let idx =
        DenseIndex::build(&rows, 32, &DenseOptions { flat_threshold: 0, ..Default::default() }).unwrap();
    let hash = format!("{:016x}\n", xxhash_rust::xxh3::xxh3_64(&postcard::to_allocvec(&idx).unwrap()));
    assert_eq!(hash, include_str!("fixtures/hnsw-golden.txt"), "wasm and native HNSW graphs differ");
}

/// The pool's path through the boundary (pkg/docent.js `createDocent(…, {workers})`): the pending
/// groups of one Docent embedded by another, handed back with `setVectors`, give the bytes of a
/// plain build; a bad call is a JS Error with the core's message.
#[wasm_bindgen_test]
fn pending_embeddings_and_set_vectors_give_the_bytes_of_a_build() {
    let want = ok(corpus_index().to_bytes(), "toBytes of a plain build");
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    for (url, field, content) in CORPUS {
        ok(d.add_document(obj(&[("url", (*url).into()), (*field, (*content).into())])), url);
    }
    let embedder = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "the embedder's Docent");
    let groups: Array = ok(d.pending_embeddings(), "pendingEmbeddings").unchecked_into();
    assert_eq!(groups.length(), 1, "the corpus fits one group");
    let group = groups.get(0);
    let chunks: Vec<u32> = Array::from(&get(&group, "chunks"))
        .iter()
        .map(|c| c.as_f64().expect("chunk ids are numbers") as u32)
        .collect();
    let texts: Vec<String> = Array::from(&get(&group, "texts"))
        .iter()
        .map(|t| t.as_string().expect("texts are strings"))
        .collect();
    assert_eq!(chunks.len(), texts.len());
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let vectors = ok(embedder.embed(texts.clone()), "embed");

    // A bad call: the core's message, nothing stored.
    let mut core = docent::Docent::new(core_hashing(256), docent::Options::default()).expect("core engine");
    let expected = core.set_vectors(&chunks[..1], &vectors[..10]).unwrap_err().to_string();
    assert_eq!(err_message(d.set_vectors(&chunks[..1], &vectors[..10]), "short vectors"), expected);
    let again: Array = ok(d.pending_embeddings(), "pendingEmbeddings").unchecked_into();
    assert_eq!(Array::from(&get(&again.get(0), "chunks")).length() as usize, chunks.len());

    ok(d.set_vectors(&chunks, &vectors), "setVectors");
    let none: Array = ok(d.pending_embeddings(), "pendingEmbeddings").unchecked_into();
    assert_eq!(none.length(), 0);
    ok(d.build(None), "build");
    assert_eq!(ok(d.to_bytes(), "toBytes"), want, "vectors from elsewhere = the build's own");
}

/// The site folder through the boundary (src/wasm/site.rs): the model file table, page outcomes,
/// the manifest and the summary are the core's (src/site.rs), converted and nothing more.
#[wasm_bindgen_test]
fn site_exports_are_the_core_definitions() {
    use docent::embed::EmbedderKind;
    use docent::site::{self, PageCounts, Runtime, Timings, Written};

    // The model file table, for every embedder, and the core's error for an unknown one.
    for kind in [EmbedderKind::MiniLm, EmbedderKind::Static, EmbedderKind::Hashing, EmbedderKind::Vectors] {
        let js: Array = ok(model_files(kind.name()), kind.name()).unchecked_into();
        let got: Vec<(String, String, String)> = js
            .iter()
            .map(|f| {
                let s = |k| get(&f, k).as_string().unwrap_or_default();
                (s("field"), s("file"), s("path"))
            })
            .collect();
        let want: Vec<(String, String, String)> = site::model_files(kind)
            .iter()
            .map(|m| (m.field.to_string(), m.file.to_string(), site::model_path(m.file)))
            .collect();
        assert_eq!(got, want, "{kind:?}");
    }
    let unknown = EmbedderKind::from_name("bert").unwrap_err().to_string();
    assert_eq!(err_message(model_files("bert"), "modelFiles(bert)"), unknown);
    let none = ok(previous_site(None), "previousSite()");
    assert_eq!(get(&none, "index").as_string().as_deref(), Some(site::INDEX_FILE));

    // The same pages through addPage and through the core: the same outcomes and counts.
    let pages = [
        ("stub.html", "<html><head><meta http-equiv=refresh content=\"0; url=a.html\"></head></html>"),
        ("a.html", "<html><body><main><h1 id=k>Kilns</h1><p>Fire the kiln slowly.</p></main></body></html>"),
        ("blank.html", "<html><body><main></main></body></html>"),
    ];
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    let mut core = docent::Docent::new(core_hashing(256), docent::Options::default()).expect("core engine");
    let mut counts = PageCounts::default();
    for (url, html) in pages {
        let out = ok(d.add_page(obj(&[("url", url.into()), ("html", html.into())])), url);
        let page = docent::ingest::parse(url, url, html, docent::ingest::Format::Html).expect("parse");
        let want = site::add_page(&mut core, page).expect("core add_page");
        counts.record(&want);
        assert_eq!(get(&out, "warning").as_string(), want.warning(), "{url}");
        let reason = match &want {
            site::PageOutcome::Skipped { reason } => Some(reason.clone()),
            _ => None,
        };
        assert_eq!(get(&out, "skipped").as_string(), reason, "{url}");
        // addDocument refuses the page with the core's words.
        let mut fresh = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
        let added = fresh.add_document(obj(&[("url", url.into()), ("html", html.into())]));
        match want.into_chunks(url) {
            Ok(n) => assert_eq!(ok(added, url), n),
            Err(e) => assert_eq!(err_message(added, url), e.to_string()),
        }
    }
    ok(d.build(None), "build");
    core.build(&mut |_| {}).expect("core build");

    // The summary and the manifest: the core's text for the same index, pages and work.
    let bytes = ok(d.to_bytes(), "toBytes");
    assert_eq!(bytes, core.to_bytes().expect("core toBytes"));
    let entry = site::FileEntry::of(site::INDEX_FILE, &bytes);
    let files = Array::of1(&obj::<JsValue>(&[
        ("path", entry.path.as_str().into()),
        ("bytes", (entry.bytes as f64).into()),
        ("xxh3", entry.xxh3.as_str().into()),
    ]));
    let seconds = obj::<JsValue>(&[
        ("read", 0.5.into()),
        ("embed", 0.25.into()),
        ("index", 0.125.into()),
        ("write", 0.0625.into()),
        ("total", 1.0.into()),
    ]);
    let work = |runtime: &str| {
        obj(&[
            ("unsupported", 1.into()),
            ("duplicates", 2.into()),
            ("excluded", 0.into()),
            ("indexBytes", (bytes.len() as f64).into()),
            ("runtime", runtime.into()),
            ("files", files.clone().into()),
            ("written", Array::of1(&"index.bin".into()).into()),
            ("deleted", Array::new().into()),
            ("seconds", seconds.clone()),
        ])
    };
    let core_work = Written {
        unsupported: 1,
        duplicates: 2,
        excluded: 0,
        index_bytes: bytes.len() as u64,
        runtime: Runtime::Kept,
        files: vec![entry.clone()],
        written: vec!["index.bin".into()],
        deleted: vec![],
        seconds: Timings { read: 0.5, embed: 0.25, index: 0.125, write: 0.0625, total: 1.0 },
    };
    let summary = site::IndexSummary::new(&core, &counts, core_work);
    assert_eq!(
        ok(d.index_summary(work("kept"), "out/docent", false), "indexSummary"),
        summary.line("out/docent")
    );
    assert_eq!(ok(d.index_summary(work("kept"), "out/docent", true), "indexSummary json"), summary.to_json());
    assert!(summary
        .line("x")
        .contains(": 1 skipped (1 redirect stub), 1 unsupported, 2 duplicates, 1 empty;"));
    assert_eq!(
        err_message(d.index_summary(work("sometimes"), "x", false), "bad runtime"),
        "invalid work: unknown variant `sometimes`, expected one of `copied`, `kept`, `none`"
    );
    let manifest = site::Manifest::new(&core, site::INDEX_FILE, &bytes, "test".into(), vec![entry]);
    assert_eq!(
        ok(d.site_manifest(&bytes, "test", files.unchecked_into(), None), "siteManifest"),
        manifest.to_json().expect("manifest json")
    );
    let nothing = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    assert_eq!(
        err_message(nothing.check_indexed(vec!["site".into()], 3), "checkIndexed"),
        site::nothing_indexed(&["site".into()], 3, &PageCounts::default()).to_string()
    );
}

/// Pages in other encodings through the platform's `TextDecoder` (src/wasm/decode.rs) read as
/// natively (tests/decode_cases.rs), but for the guess; `addPage` tells their encoding and note.
#[wasm_bindgen_test]
fn pages_in_other_encodings_read_as_natively() {
    use docent::ingest::decode::{decode_with, How};

    decode_cases::check(&PlatformDecoder);
    let d = decode_with(decode_cases::SHIFT_JIS_TEXT, docent::ingest::Format::Text, &PlatformDecoder);
    assert_eq!((d.encoding, d.how, d.lossy), ("windows-1252", How::Guessed, false), "no chardetng in wasm");
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    for c in decode_cases::CASES.iter().filter(|c| c.format == docent::ingest::Format::Html) {
        let page = obj(&[("url", c.name.into()), ("html", Uint8Array::from(c.bytes).into())]);
        let out = ok(d.add_page(page), c.name);
        assert_eq!(get(&out, "encoding").as_string().as_deref(), Some(c.encoding), "{}", c.name);
        assert_eq!(get(&out, "note").as_string().as_deref(), c.note, "{}", c.name);
    }
}

/// A PDF through `addDocument` and `addPage`: its bytes read by the PDF module's `extractPdf`
/// (lopdf in wasm, no panic), what it returns given in field `pdf` (what docent.js does); its
/// chunks cite `url#page=N`; a bad PDF is refused by addDocument and counted by addPage with the
/// CLI's note; the bytes themselves and a string are refused by the full module, which has no
/// lopdf.
#[cfg(feature = "pdf")]
#[wasm_bindgen_test]
fn pdf_extracted_by_the_pdf_module_is_read_by_the_full_module() {
    const HARBOUR: &[u8] = include_bytes!("fixtures/pdf/harbour.pdf");
    let extract = |bytes: &[u8]| ok(docent::wasm::extract_pdf(bytes), "extractPdf");
    let mut d = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    let harbour = extract(HARBOUR);
    let pages: Array = get(&get(&harbour, "read"), "pages").unchecked_into();
    assert_eq!(pages.length(), 2, "two pages extracted");
    let n = ok(d.add_document(obj(&[("url", "harbour.pdf".into()), ("pdf", harbour)])), "addDocument pdf");
    assert_eq!(n, 2);
    ok(d.build(None), "build");
    let result = ok(d.search("boats pier", Some(obj(&[("k", 1.into())]))), "search");
    let hits: Array = get(&result, "hits").unchecked_into();
    assert_eq!(get(&hits.get(0), "url").as_string().as_deref(), Some("harbour.pdf#page=2"));

    let mut fresh = ok(JsDocent::new(obj(&[("embedder", "hashing".into())])), "new Docent");
    let broken = extract(b"<html>502</html>");
    assert_eq!(
        get(&get(&broken, "skipped"), "reason").as_string().as_deref(),
        Some("unreadable"),
        "a skipped file crosses as {{skipped: {{reason, note}}}}"
    );
    assert_eq!(
        err_message(fresh.add_document(obj(&[("url", "e.pdf".into()), ("pdf", broken.clone())])), "bad pdf"),
        "document e.pdf: not indexed: unreadable PDF: no %PDF- header in the first 1024 bytes"
    );
    let out = ok(fresh.add_page(obj(&[("url", "e.pdf".into()), ("pdf", broken)])), "addPage bad pdf");
    assert_eq!(get(&out, "skipped").as_string().as_deref(), Some(docent::ingest::pdf::UNREADABLE));
    assert_eq!(
        get(&out, "note").as_string().as_deref(),
        Some("not indexed: unreadable PDF: no %PDF- header in the first 1024 bytes")
    );
    assert_eq!(
        err_message(
            fresh.add_document(obj(&[("url", "s.pdf".into()), ("pdf", "%PDF-1.4".into())])),
            "pdf string"
        ),
        "document s.pdf: expected the PDF's bytes (a Uint8Array) in field pdf, found a string"
    );
    let bytes = Uint8Array::from(HARBOUR);
    let got =
        err_message(fresh.add_document(obj(&[("url", "b.pdf".into()), ("pdf", bytes.into())])), "bytes");
    assert!(
        got.starts_with("document b.pdf: a PDF's bytes are read by the PDF module (docent_pdf.js)"),
        "{got}"
    );
}
