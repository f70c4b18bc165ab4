//! A source's text as sentences and words, and a sentence with its citation.
//!
//! Lengths here are counted in characters (Unicode scalar values), offsets are byte offsets into
//! the Rust strings; nothing of either leaves this module.

/// Longest sentence quoted, in characters: a longer one is cut at a word and ends with ` …`.
const MAX_SENTENCE_CHARS: usize = 400;

/// Shortest sentence quoted, in characters.
const MIN_SENTENCE_CHARS: usize = 8;

/// A line without any punctuation and with fewer words than this is a title, left out.
const MIN_UNPUNCTUATED_WORDS: usize = 6;

/// The words of `text`, lowercased: runs of letters and digits. One-character words are left out
/// unless they are an ASCII digit (`a`, `I` and `x` say nothing; `3` may).
pub(crate) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            let mut chars = w.chars();
            match (chars.next(), chars.next()) {
                (None, _) => false,
                (Some(c), None) => c.is_ascii_digit(),
                _ => true,
            }
        })
        .map(str::to_string)
        .collect()
}

/// `text` as sentences, in order.
///
/// Paragraphs are separated by blank lines (a line of spaces and tabs counts as blank). Inside
/// one, a line continues the previous one (hard-wrapped text) unless it starts with a Markdown
/// heading, list or quote marker, which is dropped. A line without `.`, `!`, `?`, `…`, `:` or `;`
/// and with fewer than six words (a title) is left out. Sentences end at `.`, `!` or `?`
/// (optionally followed by a closing quote or bracket) followed by whitespace and then an
/// uppercase letter or a digit (optionally after an opening quote or bracket). Sentences shorter
/// than 8 characters or without a space are left out; longer than 400 are cut at a word, ending
/// with ` …`.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in paragraphs(text) {
        let mut lines: Vec<String> = Vec::new();
        for raw in paragraph.split('\n') {
            let marker = line_marker(raw);
            let line = raw[marker.unwrap_or(0)..].trim();
            if line.is_empty() {
                continue;
            }
            match lines.last_mut() {
                Some(last) if marker.is_none() => {
                    last.push(' ');
                    last.push_str(line);
                }
                _ => lines.push(line.to_string()),
            }
        }
        for line in &lines {
            if !line.contains(['.', '!', '?', '…', ':', ';'])
                && line.split_whitespace().count() < MIN_UNPUNCTUATED_WORDS
            {
                continue;
            }
            for s in split_sentences(line) {
                let s = s.trim();
                if s.chars().count() < MIN_SENTENCE_CHARS || !s.contains(char::is_whitespace) {
                    continue;
                }
                out.push(shorten(s));
            }
        }
    }
    out
}

/// `sentence` with ` [n]` before its final run of `.`, `!` or `?` (at its end otherwise).
pub(crate) fn cite(sentence: &str, n: usize) -> String {
    let body = sentence.trim_end_matches(['.', '!', '?']);
    format!("{body} [{n}]{}", &sentence[body.len()..])
}

/// `text` split at blank lines: a line break, any spaces and tabs, and another line break.
fn paragraphs(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'\n' {
                out.push(&text[start..i]);
                start = j + 1;
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// The byte length of the Markdown line marker `raw` starts with, leading whitespace and the
/// whitespace after it included: a heading (`#` to `######`), a list item (`-`, `*`, `+`, or
/// ASCII digits and `.` or `)`), each followed by whitespace, or a quote (`>`). `None` without one.
fn line_marker(raw: &str) -> Option<usize> {
    let rest = raw.trim_start();
    let start = raw.len() - rest.len();
    let space_at = |i: usize| rest[i..].len() - rest[i..].trim_start().len();
    let end = match rest.as_bytes().first()? {
        b'#' => {
            let n = rest.bytes().take_while(|&b| b == b'#').count();
            let space = space_at(n);
            if n > 6 || space == 0 {
                return None;
            }
            n + space
        }
        b'-' | b'*' | b'+' => match space_at(1) {
            0 => return None,
            space => 1 + space,
        },
        b'0'..=b'9' => {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if !matches!(rest.as_bytes().get(n), Some(b'.' | b')')) {
                return None;
            }
            match space_at(n + 1) {
                0 => return None,
                space => n + 1 + space,
            }
        }
        b'>' => 1 + space_at(1),
        _ => return None,
    };
    Some(start + end)
}

/// A trimmed line cut into sentences at the whitespace between them (see [`sentences`]).
fn split_sentences(line: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let is_end = |c: char| matches!(c, '.' | '!' | '?');
    let is_close = |c: char| matches!(c, '"' | '\'' | ')' | ']');
    let is_open = |c: char| matches!(c, '"' | '\'' | '(' | '[');
    let is_start = |c: char| c.is_uppercase() || c.is_numeric();
    let mut out = Vec::new();
    let mut start = 0;
    let mut k = 0;
    while k < chars.len() {
        if !chars[k].1.is_whitespace() {
            k += 1;
            continue;
        }
        let mut m = k;
        while m < chars.len() && chars[m].1.is_whitespace() {
            m += 1;
        }
        let before = |back: usize| k.checked_sub(back).map(|i| chars[i].1);
        let ends = before(1).is_some_and(is_end)
            || (before(1).is_some_and(is_close) && before(2).is_some_and(is_end));
        let starts = match chars.get(m).map(|&(_, c)| c) {
            Some(c) if is_open(c) => chars.get(m + 1).is_some_and(|&(_, c)| is_start(c)),
            Some(c) => is_start(c),
            None => false,
        };
        if ends && starts {
            out.push(&line[start..chars[k].0]);
            start = chars[m].0;
        }
        k = m;
    }
    out.push(&line[start..]);
    out
}

/// `s` cut to [`MAX_SENTENCE_CHARS`] at the last whole word, with ` …`, when longer.
fn shorten(s: &str) -> String {
    let Some((cut, _)) = s.char_indices().nth(MAX_SENTENCE_CHARS) else {
        return s.to_string();
    };
    let head = &s[..cut];
    let kept = match head.rfind(char::is_whitespace) {
        Some(i) => head[..i].trim_end(),
        None => head,
    };
    format!("{kept} …")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_runs_of_letters_and_digits() {
        assert_eq!(
            words("Grüße, I need 3 KB of x-ray_data!"),
            ["grüße", "need", "3", "kb", "of", "ray", "data"]
        );
    }

    #[test]
    fn sentences_end_before_a_capital_or_digit_and_keep_abbreviations_together() {
        assert_eq!(
            sentences(
                "It costs 3.5 euros, e.g. here. He said \"Stop.\" Then (bracketed) ok? 42 is fine! and more"
            ),
            [
                "It costs 3.5 euros, e.g. here.",
                "He said \"Stop.\"",
                "Then (bracketed) ok?",
                "42 is fine! and more"
            ]
        );
    }

    #[test]
    fn markers_start_lines_and_titles_are_left_out() {
        let text = "# Title\n\n## Soil care\n- Tomatoes like loose soil.\n* Mulch keeps it moist.\n\
                    1) Water in the morning.\n> Quoted advice is kept.\n####### seven hashes is text.";
        assert_eq!(
            sentences(text),
            [
                "Tomatoes like loose soil.",
                "Mulch keeps it moist.",
                "Water in the morning.",
                "Quoted advice is kept. ####### seven hashes is text."
            ]
        );
        assert_eq!(line_marker("  -  x"), Some(5));
        assert_eq!(line_marker("-x"), None);
        assert_eq!(line_marker("12. x"), Some(4));
        assert_eq!(line_marker(">x"), Some(1));
    }

    #[test]
    fn blank_lines_with_spaces_separate_paragraphs() {
        assert_eq!(paragraphs("a\n \t\nb\n\n\nc"), ["a", "b", "\nc"]);
    }

    #[test]
    fn long_sentences_are_cut_at_a_word() {
        let long = format!("{} end.", "word ".repeat(100));
        let s = &sentences(&long)[0];
        assert!(s.ends_with("word …") && s.chars().count() <= MAX_SENTENCE_CHARS + 2, "{s}");
    }

    #[test]
    fn citations_go_before_the_final_punctuation() {
        assert_eq!(cite("It works.", 2), "It works [2].");
        assert_eq!(cite("Really?!", 1), "Really [1]?!");
        assert_eq!(cite("Cut here …", 3), "Cut here … [3]");
        assert_eq!(cite("He said \"no.\"", 4), "He said \"no.\" [4]");
    }
}
