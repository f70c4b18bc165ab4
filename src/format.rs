//! The index file format: a versioned, checksummed container of named sections.
//!
//! Layout (all integers little-endian):
//! ```text
//! magic        8 bytes  "DOCENTIX"
//! version      u32      FORMAT_VERSION
//! count        u32      number of sections
//! table        count × { name_len u8, name bytes, offset u64, len u64, xxh3 u64 }
//! table_xxh3   u64      checksum of magic..table
//! bodies       each section's bytes at its offset (postcard-encoded by the engine)
//! ```
//! Owns: framing, versioning and integrity: a truncated, corrupted, wrong-version or foreign
//! file gives an error that says which section and what is wrong. Must not: know what the
//! sections mean (the engine encodes them).
//!
//! Design: `docs/design.md`, "The index file and its place".

use xxhash_rust::xxh3::xxh3_64;

use crate::{Error, Result};

/// The magic bytes at the start of every index file.
pub const MAGIC: &[u8; 8] = b"DOCENTIX";

/// The format version this build writes. Version 3 (2026-12-06) holds a BM25F index (title,
/// heading path and body as separate fields) in its `bm25` section.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build reads ([`read_versioned`]). A version-2 file differs
/// from version 3 only in its `bm25` section (one bag of words per chunk), which the engine
/// rebuilds from the chunks when it loads one.
pub const OLDEST_READABLE_VERSION: u32 = 2;

/// Writes named sections into one container.
pub fn write(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let names: Vec<&str> = sections.iter().map(|(n, _)| *n).collect();
    let size = sections.iter().map(|(_, b)| b.len()).sum();
    let filled: Result<Vec<u8>> = write_with(&names, size, |i, out| {
        out.extend_from_slice(sections[i].1);
        Ok(())
    });
    filled.unwrap_or_default()
}

/// Writes a container whose section bodies `fill(i, out)` appends to the output in order, straight
/// into it: no body exists twice, so serialising an index needs the memory of the file once
/// (`capacity`, the bodies' total size when known, avoids regrowing the output). The bytes are
/// the same as [`write`] gives for the same bodies. Section names are at most 255 bytes.
pub fn write_with(
    names: &[&str],
    capacity: usize,
    mut fill: impl FnMut(usize, &mut Vec<u8>) -> Result<()>,
) -> Result<Vec<u8>> {
    let table_len: usize = names.iter().map(|n| 1 + n.len() + 24).sum();
    let header_len = 8 + 4 + 4 + table_len + 8;
    let mut out = Vec::with_capacity(header_len + capacity);
    out.resize(header_len, 0);
    let mut bodies = Vec::with_capacity(names.len());
    for i in 0..names.len() {
        let start = out.len();
        fill(i, &mut out)?;
        bodies.push(start..out.len());
    }
    let mut header = Vec::with_capacity(header_len);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for (name, body) in names.iter().zip(&bodies) {
        assert!(name.len() < 256, "section name {name:?} is over 255 bytes");
        header.push(name.len() as u8);
        header.extend_from_slice(name.as_bytes());
        header.extend_from_slice(&(body.start as u64).to_le_bytes());
        header.extend_from_slice(&(body.len() as u64).to_le_bytes());
        header.extend_from_slice(&xxh3_64(&out[body.clone()]).to_le_bytes());
    }
    let sum = xxh3_64(&header);
    header.extend_from_slice(&sum.to_le_bytes());
    out[..header_len].copy_from_slice(&header);
    Ok(out)
}

/// A section read from a container.
#[derive(Debug)]
pub struct SectionRef<'a> {
    /// The section's name.
    pub name: String,
    /// Its bytes (checksum verified).
    pub body: &'a [u8],
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            Error::format(
                self.what,
                format!(
                    "truncated: the header field '{field}' needs bytes {}..{} but the file has {} bytes",
                    self.pos,
                    self.pos.saturating_add(n),
                    self.bytes.len()
                ),
            )
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self, field: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, field)?.try_into().unwrap_or_default()))
    }
    fn u64(&mut self, field: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, field)?.try_into().unwrap_or_default()))
    }
}

/// Reads and verifies a container. `what` names the file in errors (e.g. `docent/index.bin`).
pub fn read<'a>(bytes: &'a [u8], what: &'a str) -> Result<Vec<SectionRef<'a>>> {
    read_versioned(bytes, what).map(|(_, sections)| sections)
}

/// [`read`], also returning the file's format version: [`OLDEST_READABLE_VERSION`] up to
/// [`FORMAT_VERSION`]; other versions are refused with [`Error::UnsupportedVersion`].
pub fn read_versioned<'a>(bytes: &'a [u8], what: &'a str) -> Result<(u32, Vec<SectionRef<'a>>)> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(Error::format(
            what,
            if bytes.is_empty() {
                "the file is empty, not a docent index".to_string()
            } else {
                "not a docent index (the file does not start with the magic bytes DOCENTIX)".to_string()
            },
        ));
    }
    let mut r = Reader { bytes, pos: 8, what };
    let version = r.u32("version")?;
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            what: what.to_string(),
            found: version,
            supported: supported_versions(),
        });
    }
    let count = r.u32("section count")? as usize;
    if count > 64 {
        return Err(Error::format(what, format!("corrupted header: {count} sections (at most 64 expected)")));
    }
    let mut table = Vec::with_capacity(count);
    for i in 0..count {
        let name_len = r.take(1, "section name length")?[0] as usize;
        let name = String::from_utf8_lossy(r.take(name_len, "section name")?).into_owned();
        let offset = r.u64("section offset")?;
        let len = r.u64("section length")?;
        let sum = r.u64("section checksum")?;
        let _ = i;
        table.push((name, offset, len, sum));
    }
    let header_end = r.pos;
    let stored = r.u64("header checksum")?;
    if xxh3_64(&bytes[..header_end]) != stored {
        return Err(Error::format(
            what,
            "corrupted: the header checksum does not match (the section table was altered)",
        ));
    }
    let mut out = Vec::with_capacity(count);
    for (name, offset, len, sum) in table {
        let end = offset.saturating_add(len);
        if end > bytes.len() as u64 {
            return Err(Error::format(
                what,
                format!(
                    "truncated: section '{name}' needs bytes {offset}..{end} but the file has {} bytes",
                    bytes.len()
                ),
            ));
        }
        let body = &bytes[offset as usize..end as usize];
        if xxh3_64(body) != sum {
            return Err(Error::format(
                what,
                format!("corrupted: the checksum of section '{name}' does not match its {len} bytes"),
            ));
        }
        out.push(SectionRef { name, body });
    }
    Ok((version, out))
}

/// The versions [`read`] accepts, as error messages name them: `2 or 3`.
pub fn supported_versions() -> String {
    let v: Vec<String> = (OLDEST_READABLE_VERSION..=FORMAT_VERSION).map(|v| v.to_string()).collect();
    match v.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => v.join(""),
    }
}

/// Finds a required section by name.
pub fn section<'a>(sections: &'a [SectionRef<'a>], name: &str, what: &str) -> Result<&'a [u8]> {
    sections
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.body)
        .ok_or_else(|| Error::format(what, format!("the section '{name}' is missing")))
}

/// Decodes a postcard-encoded section, naming it in the error. A check inside a section type's
/// `Deserialize` that failed with [`invalid`] is reported with its own message.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8], name: &str, what: &str) -> Result<T> {
    INVALID.with(|m| m.borrow_mut().take());
    postcard::from_bytes(body).map_err(|e| {
        let detail = INVALID.with(|m| m.borrow_mut().take()).unwrap_or_else(|| e.to_string());
        Error::format(what, format!("section '{name}' could not be decoded: {detail}"))
    })
}

thread_local! {
    /// The message of the last [`invalid`] on this thread (postcard keeps only "Serde
    /// Deserialization Error" of a custom error).
    static INVALID: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// For checks inside `Deserialize` impls of section types: remembers `msg` for [`decode`] to
/// report, and returns it (to become the serde error).
pub(crate) fn invalid(msg: String) -> String {
    INVALID.with(|m| *m.borrow_mut() = Some(msg.clone()));
    msg
}

/// Appends the postcard encoding of `value` to `out` (see [`write_with`]).
pub fn encode_into<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    let taken = std::mem::take(out);
    *out = postcard::to_extend(value, taken)
        .map_err(|e| Error::format("index", format!("could not encode: {e}")))?;
    Ok(())
}

/// The size of the postcard encoding of `value`, without encoding it.
pub fn encoded_size<T: serde::Serialize>(value: &T) -> Result<usize> {
    postcard::experimental::serialized_size(value)
        .map_err(|e| Error::format("index", format!("could not encode: {e}")))
}

/// Encodes a value with postcard.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::format("index", format!("could not encode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_truncation_fails_cleanly() {
        let file = write(&[("a", b"hello"), ("bb", b""), ("c", &[7u8; 100])]);
        let s = read(&file, "t").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].body, b"hello");
        assert_eq!(section(&s, "c", "t").unwrap(), &[7u8; 100]);
        for cut in 0..file.len() {
            let e = read(&file[..cut], "t").unwrap_err().to_string();
            assert!(
                e.starts_with("t: ")
                    && (e.contains("truncated") || e.contains("empty") || e.contains("magic")),
                "{cut}: {e}"
            );
        }
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let file = write(&[("a", b"hello"), ("c", &[7u8; 40])]);
        for i in 0..file.len() {
            let mut f = file.clone();
            f[i] ^= 0x10;
            assert!(read(&f, "t").is_err(), "flip at {i} not detected");
        }
    }
}
