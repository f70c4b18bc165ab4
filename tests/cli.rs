//! The `docent` binary: the CLI contract (`docs/cli.md`, `docs/design.md`), with the hashing
//! embedder (no model).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{fixture, root};

fn docent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docent"))
        .args(args)
        .current_dir(root())
        .env_remove("DOCENT_API_KEY")
        .output()
        .expect("run docent")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn index_corpus(dir: &Path) -> Output {
    let o = docent(&[
        "index",
        fixture("corpus").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--embedder",
        "hashing",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn index_reports_what_it_read_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("docent");
    let o = index_corpus(&out);
    let s = stdout(&o);
    assert!(s.starts_with("indexed 4 documents ("), "{s}");
    // notes.pdf is not a PDF (no header): skipped with a reason and a warning naming it.
    assert!(s.contains(": 1 skipped (1 unreadable PDF), 0 unsupported"), "{s}");
    assert!(s.contains("embedder hashing (256-d)"), "{s}");
    assert!(stderr(&o).contains("latin1.txt: not valid UTF-8"), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("notes.pdf: not indexed: unreadable PDF: no %PDF- header in the first 1024 bytes"),
        "{}",
        stderr(&o)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "docent-index");
    assert_eq!(manifest["version"], docent::format::FORMAT_VERSION);
    assert_eq!(manifest["documents"], 4);
    assert_eq!(manifest["embedder"]["kind"], "hashing");
    assert_eq!(manifest["bytes"].as_u64().unwrap(), std::fs::metadata(out.join("index.bin")).unwrap().len());
}

#[test]
fn search_prints_the_json_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let o = docent(&["search", out.to_str().unwrap(), "tyre pressure gauge", "--k", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["q"], "tyre pressure gauge");
    assert_eq!(v["answerable"], true);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0]["url"], "bicycle.html#tyres");
    for key in ["url", "title", "heading", "score", "text"] {
        assert!(hits[0].get(key).is_some(), "missing {key}");
    }
    let o = docent(&["search", out.to_str().unwrap(), "tyre pressure"]);
    assert!(stdout(&o).contains(" 1. ") && stdout(&o).contains("bicycle.html#tyres"), "{}", stdout(&o));
}

#[test]
fn search_queries_file_prints_one_line_per_query_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let qfile = tmp.path().join("q.jsonl");
    std::fs::write(&qfile, "{\"q\": \"sourdough starter\", \"id\": 1}\n\n{\"q\": \"aphids on shoots\"}\n{\"q\": \"galaxy redshift survey\"}\n").unwrap();
    let o = docent(&["search", out.to_str().unwrap(), "--queries", qfile.to_str().unwrap(), "--k", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["q"], "sourdough starter");
    assert_eq!(lines[0]["hits"][0]["url"], "bread.txt");
    assert_eq!(lines[1]["hits"][0]["url"], "guide/gardening.md#pests");
    assert_eq!(lines[2]["answerable"], false);
    std::fs::write(&qfile, "{\"query\": \"x\"}\n").unwrap();
    let o = docent(&["search", out.to_str().unwrap(), "--queries", qfile.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!(
            "docent: {}:1: expected a JSON object with a string field \"q\"",
            qfile.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ask_prints_the_grounded_prompt() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let o = docent(&["ask", out.to_str().unwrap(), "How do I fix a puncture?", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(p["abstained"], false);
    assert_eq!(p["sources"][0]["url"], "bicycle.html#puncture");
    assert_eq!(p["messages"][0]["role"], "system");
    assert!(p["user"].as_str().unwrap().contains("<source id=\"1\""));
    assert!(p["tokens"].as_u64().unwrap() <= 2000);
    let o = docent(&["ask", out.to_str().unwrap(), "How do I fix a puncture?", "--budget", "10"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "docent: invalid budget: expected 64..=1000000 tokens, found 10\n");
}

/// A one-shot OpenAI-compatible SSE server on 127.0.0.1 that records the request body.
fn mock_openai() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        // Read headers, then the body by Content-Length; bounded by the timeout.
        let body = loop {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "client closed early");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some(h) = text.find("\r\n\r\n") {
                let len: usize = text[..h]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= h + 4 + len {
                    break String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).into_owned();
                }
            }
        };
        let events = ["Patch ", "the tube ", "[1]."]
            .iter()
            .map(|t| format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{t}\"}}}}]}}\n\n"))
            .collect::<String>()
            + "data: [DONE]\n\n";
        write!(s, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{events}", events.len()).unwrap();
        body
    });
    (format!("http://{addr}/v1"), handle)
}

#[test]
fn ask_streams_an_answer_from_an_openai_compatible_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let (endpoint, server) = mock_openai();
    let o = docent(&[
        "ask",
        out.to_str().unwrap(),
        "How do I fix a puncture?",
        "--provider",
        "openai",
        "--endpoint",
        &endpoint,
        "--model",
        "mock-1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.starts_with("Patch the tube [1]."), "{s}");
    assert!(s.contains("Sources:\n[1] ") && s.contains("bicycle.html#puncture"), "{s}");
    let body: serde_json::Value = serde_json::from_str(&server.join().unwrap()).unwrap();
    assert_eq!(body["model"], "mock-1");
    assert_eq!(body["stream"], true);
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Roughen the area, apply glue"), "the retrieved text is sent: {user}");
    assert!(body["messages"][0]["content"].as_str().unwrap().contains("Cite"));
}

#[test]
fn ask_does_not_call_the_model_when_the_documents_do_not_cover_the_question() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    // Port 9 (discard) on loopback: any connection attempt would fail the command.
    let o = docent(&[
        "ask",
        out.to_str().unwrap(),
        "galaxy redshift survey results",
        "--provider",
        "openai",
        "--endpoint",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("The documents do not cover this question"), "{}", stdout(&o));
}

#[test]
fn eval_reports_recall_mrr_and_gate_for_each_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let qfile = tmp.path().join("q.jsonl");
    std::fs::write(
        &qfile,
        "{\"q\": \"how to feed a sourdough starter\", \"relevant\": [\"bread.txt\"]}\n\
         {\"q\": \"patch a punctured tube\", \"relevant\": [\"bicycle.html#puncture\"]}\n\
         {\"q\": \"galaxy redshift survey\", \"relevant\": []}\n",
    )
    .unwrap();
    let o = docent(&["eval", out.to_str().unwrap(), qfile.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["answerable"], 2);
    assert_eq!(v["unanswerable"], 1);
    let modes: Vec<&str> =
        v["modes"].as_array().unwrap().iter().map(|m| m["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["lexical", "dense", "hybrid"]);
    assert_eq!(v["modes"][2]["recall_at_5"], 1.0);
    assert_eq!(v["gate"]["unanswerable_flagged"], 1.0);
    let o = docent(&["eval", out.to_str().unwrap(), qfile.to_str().unwrap()]);
    assert!(stdout(&o).contains("hybrid") && stdout(&o).contains("gate: "), "{}", stdout(&o));
}

#[test]
fn errors_are_one_line_with_exit_code_1() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let o = docent(&["search", missing.to_str().unwrap(), "q"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with(&format!("docent: {}: ", missing.join("manifest.json").display())), "{e}");

    let o = docent(&[
        "index",
        missing.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
        "--embedder",
        "hashing",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(&format!("docent: {}", missing.display())), "{}", stderr(&o));

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = docent(&[
        "index",
        empty.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
        "--embedder",
        "hashing",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("docent: invalid paths: no indexable text found in"), "{}", stderr(&o));

    let o = docent(&["index", empty.to_str().unwrap(), "--out", "x", "--embedder", "bert"]);
    assert_eq!(
        stderr(&o),
        "docent: invalid embedder: expected one of minilm, static, hashing, vectors; found \"bert\"\n"
    );

    // A corrupted index names the file and the problem.
    let out = tmp.path().join("d");
    index_corpus(&out);
    let ipath = out.join("index.bin");
    let mut bytes = std::fs::read(&ipath).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    std::fs::write(&ipath, &bytes).unwrap();
    let o = docent(&["search", out.to_str().unwrap(), "q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .starts_with(&format!("docent: {}: corrupted: the checksum of section 'bm25'", ipath.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_command_has_help() {
    for cmd in ["index", "search", "ask", "eval", "model"] {
        let o = docent(&[cmd, "--help"]);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Usage: docent"), "{cmd}");
    }
}

#[test]
fn ask_with_history_searches_the_follow_up_in_its_conversation() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let dir = out.to_str().unwrap();
    // A JSON array: the follow-up's "gauge" is the tyre pressure gauge.
    let array = tmp.path().join("history.json");
    std::fs::write(
        &array,
        r#"[{"question": "How do I look after my bicycle tyres?", "answer": "Check the pressure weekly [1]."}]"#,
    )
    .unwrap();
    let o =
        docent(&["ask", dir, "and what is the gauge for?", "--history", array.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(p["sources"][0]["url"], "bicycle.html#tyres");
    assert_eq!(p["turns"], 1);
    let roles: Vec<&str> =
        p["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(p["messages"][2]["content"], "Check the pressure weekly.");
    // JSON lines, with the answer left out: here the gauge is the self-watering pot's.
    let lines = tmp.path().join("history.jsonl");
    std::fs::write(&lines, "{\"question\": \"How does a self-watering pot work?\"}\n\n").unwrap();
    let o =
        docent(&["ask", dir, "and what is the gauge for?", "--history", lines.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(p["sources"][0]["url"], "guide/gardening.md#self-watering-pots");
    // The same through the fragments, as the browser reads the folder.
    let o = docent(&[
        "ask",
        dir,
        "and what is the gauge for?",
        "--history",
        lines.to_str().unwrap(),
        "--json",
        "--fragments",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(f["sources"][0]["url"], "guide/gardening.md#self-watering-pots");
    // A turn that carries the sources its answer cited: the follow-up's word is looked for on
    // their page (the bicycle's), through index.bin and through the fragments alike.
    let cited = tmp.path().join("cited.jsonl");
    std::fs::write(
        &cited,
        "{\"question\": \"How does a self-watering pot work?\", \"sources\": [\"bicycle.html#chain\"]}\n",
    )
    .unwrap();
    for extra in [&[][..], &["--fragments"][..]] {
        let mut argv =
            vec!["ask", dir, "and what is the gauge for?", "--history", cited.to_str().unwrap(), "--json"];
        argv.extend(extra);
        let o = docent(&argv);
        assert!(o.status.success(), "{}", stderr(&o));
        let p: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let urls: Vec<&str> =
            p["sources"].as_array().unwrap().iter().map(|s| s["url"].as_str().unwrap()).collect();
        assert!(urls.contains(&"bicycle.html#tyres"), "{extra:?}: {urls:?}");
    }
}

#[test]
fn ask_with_bad_history_names_the_file_and_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    index_corpus(&out);
    let dir = out.to_str().unwrap();
    let file = tmp.path().join("h.json");
    let name = file.display().to_string();
    let cases: [(&str, String); 9] = [
        (r#"[{"question": "a?"}, {"answer": "b"}]"#, format!("{name}: turn 2: missing field \"question\"")),
        (r#"[{"question": "a?", "sources": "a.html"}]"#, format!("{name}: turn 1: field \"sources\" must be an array of urls, found \"a.html\"")),
        (r#"[{"question": "a?", "sources": [3]}]"#, format!("{name}: turn 1: field \"sources\" must hold page#anchor strings, found 3")),
        (r#"[{"question": "a?", "sources": [""]}]"#, format!("invalid {name}: turn 1: field \"sources\": url 1 is empty (expected page#anchor)")),
        ("{\"question\": \"a?\"}\n{\"question\": 3}\n", format!("{name}:2: field \"question\" must be a string, found 3")),
        (r#"[{"question": "a?", "answer": ["b"]}]"#, format!("{name}: turn 1: field \"answer\" must be a string, found [\"b\"]")),
        (r#"[{"question": "  "}]"#, format!("{name}: turn 1: field \"question\" is empty")),
        (r#"["a?"]"#, format!("{name}: turn 1: expected an object {{\"question\", \"answer\"}}, found \"a?\"")),
        ("question: a?\n", format!("{name}:1: expected a JSON object {{\"question\", \"answer\"}} per line (or one JSON array): ")),
    ];
    for (text, want) in cases {
        std::fs::write(&file, text).unwrap();
        let o = docent(&["ask", dir, "and then?", "--history", &name]);
        assert_eq!(o.status.code(), Some(1), "{text}");
        assert!(stderr(&o).starts_with(&format!("docent: {want}")), "{text}: {}", stderr(&o));
    }
    let o = docent(&["ask", dir, "and then?", "--history", "no-such-history.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no-such-history.json"), "{}", stderr(&o));
}
