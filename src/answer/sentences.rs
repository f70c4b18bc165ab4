//! A source's text as sentences and words, and a sentence with its citation.
//!
//! Two readings of a text: [`sentences`], the plain cut the gate's calibration queries are made
//! from (kept as it was, so that calibrated gates, and so index files, do not change), and
//! [`parts`], the offline answer's: what ingestion made of a page (`src/ingest/`: a prose block on
//! one line, list items as `- ` lines, table rows as lines of cells joined by ` | `, code verbatim
//! between blank lines) read back into whole prose sentences and code blocks, tables left out.
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
            for s in split_sentences(line, false) {
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

/// A trimmed line cut into sentences at the whitespace between them (see [`sentences`]). With
/// `before_lowercase`, a `.` also ends a sentence before a lowercase letter, unless it ends an
/// abbreviation (`e.g.`, `etc.`, see [`is_abbreviation`]) or an ellipsis (`...`): the prose
/// reading of [`parts`], where "… no server code. index.bin stays …" is two sentences.
/// Whether `c` can begin a sentence: a capital, a digit, or a letter of a script without case
/// (Hebrew, Arabic, Chinese…), where no sentence would otherwise ever qualify.
fn starts_sentence(c: char) -> bool {
    c.is_numeric() || (c.is_alphabetic() && !c.is_lowercase())
}

fn split_sentences(line: &str, before_lowercase: bool) -> Vec<&str> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let is_end = |c: char| matches!(c, '.' | '!' | '?');
    let is_close = |c: char| matches!(c, '"' | '\'' | ')' | ']');
    let is_open = |c: char| matches!(c, '"' | '\'' | '(' | '[');
    let is_start = starts_sentence;
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
        let lower = before_lowercase
            && before(1) == Some('.')
            && before(2).is_some_and(|c| c != '.')
            && chars.get(m).is_some_and(|&(_, c)| c.is_lowercase())
            && !is_abbreviation(&line[start..chars[k].0]);
        if (ends && starts) || lower {
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

/// Fewest words of a list item quoted as a clause without final punctuation: a shorter item
/// (`Default: none`, `Type: string`) is a label or a value, not a clause.
const MIN_CLAUSE_WORDS: usize = 5;

/// A part of a source the offline answer may quote, in the source's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// A whole prose sentence (see [`parts`]).
    Sentence(String),
    /// A code block, its lines as they are (blocks that only a blank line separates are one).
    Code(String),
}

/// What a paragraph of chunk text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prose,
    Code,
    Table,
}

/// `text` (a chunk's, as `src/ingest/` writes it) as whole prose sentences and code blocks, in
/// order; tables are left out.
///
/// A paragraph (lines between blank lines) is a **table** when a line holds the cell separator
/// ` | ` (or starts or ends with a bare `|`, an empty first or last cell); **code** when a line
/// that is not a list item starts with whitespace, holds a run of two spaces not after `.`,
/// `!`, `?` or `:` (ingestion collapses the whitespace of prose and keeps code's), or has the
/// shape of code (see [`is_code_line`]); **prose** otherwise. Prose lines are joined and cut as
/// [`sentences`] does, and also at a `.` before a lowercase letter (not after an abbreviation).
/// A **whole sentence** starts with an uppercase letter or a digit (after an opening quote or
/// bracket), ends with `.`, `!` or `?` (then closing quotes or brackets; not `...`), has 8 to
/// 400 characters and a space, and holds no `{`, `}` or box-drawing characters. The last
/// sentence of a list item may instead be a clause without final punctuation: it starts like a
/// sentence, has at least 5 words, does not start with a `Label:` word, and ends with a letter,
/// a digit or `)` but not an issue number (`#123`); it is given a final `.`. Headings (a
/// Markdown `#` line) are never sentences. Nothing is cut: a longer sentence is left out.
pub(crate) fn parts(text: &str) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    for paragraph in paragraphs(text) {
        let lines: Vec<&str> = paragraph.split('\n').filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        match kind(&lines) {
            Kind::Table => {}
            Kind::Code => {
                let block = lines.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n");
                match out.last_mut() {
                    Some(Part::Code(prev)) => {
                        prev.push_str("\n\n");
                        prev.push_str(&block);
                    }
                    _ => out.push(Part::Code(block)),
                }
            }
            Kind::Prose => {
                for unit in units(&lines) {
                    if unit.heading {
                        continue;
                    }
                    let pieces = split_sentences(&unit.text, true);
                    let last = pieces.len().saturating_sub(1);
                    for (i, s) in pieces.into_iter().enumerate() {
                        if let Some(s) = whole_sentence(s.trim(), unit.list && i == last) {
                            out.push(Part::Sentence(s));
                        }
                    }
                }
            }
        }
    }
    out
}

/// What the lines of one paragraph are (see [`parts`]).
fn kind(lines: &[&str]) -> Kind {
    let row = |l: &str| {
        let t = l.trim();
        l.contains(" | ") || t == "|" || t.starts_with("| ") || t.ends_with(" |")
    };
    if lines.iter().any(|l| row(l)) {
        return Kind::Table;
    }
    let code = lines.iter().any(|raw| {
        let marker = line_marker(raw);
        let list = marker.is_some() && !raw.trim_start().starts_with(['#', '>']);
        if list {
            return false;
        }
        if raw.starts_with([' ', '\t']) {
            return true;
        }
        let line = raw.trim();
        if let Some(m) = marker.filter(|_| line.starts_with('#')) {
            // A `#` line: a heading when its text starts with a capital, else a comment in code
            // (`# mold, otherwise`, `# ...`).
            return !raw[m..].starts_with(starts_sentence);
        }
        verbatim_space(line) || is_code_line(line)
    });
    if code {
        Kind::Code
    } else {
        Kind::Prose
    }
}

/// Whether a trimmed line holds a run of two spaces, or a tab, that is not after `.`, `!`, `?`
/// or `:` (where plain text may put two spaces between sentences).
fn verbatim_space(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    chars.windows(3).any(|w| {
        (w[1] == '\t' || (w[1] == ' ' && w[2] == ' ')) && !matches!(w[0], '.' | '!' | '?' | ':' | ' ')
    })
}

/// Whether a trimmed line has the shape of code rather than prose: it ends with `{`, `}`, `;`,
/// `(`, `[`, `\`, `=`, `=>` or `->`; starts with `$ `, `//`, `/*`, `#!`, `#[`, `}` or `)`; is
/// bracketed whole (`[dependencies]`); is markup (`<…>`); assigns (`opt-level = 3`, `KEY=value`:
/// a name of letters, digits, `_`, `-` and `.` before `=`); or draws a tree (box-drawing
/// characters, as `cargo tree` prints).
fn is_code_line(line: &str) -> bool {
    let ends = ["{", "}", ";", "(", "[", "\\", "=", "=>", "->"];
    let starts = ["$ ", "//", "/*", "#!", "#[", "}", ")"];
    if ends.iter().any(|e| line.ends_with(e)) || starts.iter().any(|s| line.starts_with(s)) {
        return true;
    }
    if (line.starts_with('[') && line.ends_with(']')) || (line.starts_with('<') && line.ends_with('>')) {
        return true;
    }
    if line.chars().any(|c| ('\u{2500}'..='\u{257F}').contains(&c)) {
        return true;
    }
    let name = line
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(line.len(), |(i, _)| i);
    let rest = line[name..].strip_prefix(' ').unwrap_or(&line[name..]);
    name > 0
        && line.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && rest.starts_with('=')
        && !rest.starts_with("==")
}

/// A run of prose lines read as one: a hard-wrapped paragraph, a list item or a heading.
struct Unit {
    text: String,
    list: bool,
    heading: bool,
}

/// The lines of a prose paragraph as units: a line with a Markdown marker starts one (a `#`
/// heading is a unit of its own), other lines continue the one before (hard-wrapped text),
/// except after a short line without punctuation (a title: fewer than six words) when they start
/// with an uppercase letter.
fn units(lines: &[&str]) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for raw in lines {
        let marker = line_marker(raw);
        let line = raw[marker.unwrap_or(0)..].trim();
        if line.is_empty() {
            continue;
        }
        let heading = marker.is_some() && raw.trim_start().starts_with('#');
        let list = marker.is_some() && !heading && !raw.trim_start().starts_with('>');
        match out.last_mut() {
            Some(last)
                if marker.is_none()
                    && !last.heading
                    && !(line.starts_with(starts_sentence) && is_title(&last.text)) =>
            {
                last.text.push(' ');
                last.text.push_str(line);
            }
            _ => out.push(Unit { text: line.to_string(), list, heading }),
        }
    }
    out
}

/// A line without sentence punctuation and with fewer than six words.
fn is_title(text: &str) -> bool {
    !text.contains(['.', '!', '?', '…', ':', ';']) && text.split_whitespace().count() < MIN_UNPUNCTUATED_WORDS
}

/// `s` as a whole sentence (see [`parts`]), with a final `.` when it is a list item's clause;
/// `None` when it is not one.
fn whole_sentence(s: &str, list_clause: bool) -> Option<String> {
    let len = s.chars().count();
    if !(MIN_SENTENCE_CHARS..=MAX_SENTENCE_CHARS).contains(&len) || !s.contains(char::is_whitespace) {
        return None;
    }
    let body = s.trim_start_matches(['"', '\'', '(', '[', '“', '‘']);
    if !body.starts_with(starts_sentence) {
        return None;
    }
    if s.contains(['{', '}']) || s.chars().any(|c| ('\u{2500}'..='\u{257F}').contains(&c)) {
        return None;
    }
    let end = s.trim_end_matches(['"', '\'', ')', ']', '”', '’', '»']);
    if end.ends_with(['.', '!', '?']) {
        return (!end.ends_with("..")).then(|| s.to_string());
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    let clause = list_clause
        && words.len() >= MIN_CLAUSE_WORDS
        && !words[0].ends_with(':')
        && !words.last().is_some_and(|w| w.starts_with('#'))
        && s.ends_with(|c: char| c.is_alphanumeric() || c == ')');
    clause.then(|| format!("{s}."))
}

/// Whether the word a `.` ends (`text` up to that `.`) is an abbreviation, after which a lowercase
/// word does not start a sentence: one with a `.` inside (`e.g.`, `i.e.`), or one of `etc`, `vs`,
/// `cf`, `approx`, `incl`, `esp`, `resp`, `viz`, `al`, `ca`, `no`, `fig`, `eq`, `ch`, `sec`,
/// `vol`, `p`, `pp`.
fn is_abbreviation(text: &str) -> bool {
    let word = text.rsplit(char::is_whitespace).next().unwrap_or(text);
    let word = word.trim_start_matches(['(', '[', '"', '\'']).strip_suffix('.').unwrap_or(word);
    const SHORT: &[&str] = &[
        "etc", "vs", "cf", "approx", "incl", "esp", "resp", "viz", "al", "ca", "no", "fig", "eq", "ch",
        "sec", "vol", "p", "pp",
    ];
    word.contains('.') || SHORT.contains(&word.to_lowercase().as_str())
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
