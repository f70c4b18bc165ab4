//! A PDF's outline (bookmarks): the entries that point at a page, in outline order, walked with
//! guards of its own. lopdf's `get_toc` follows `/Next` without remembering where it has been, so
//! an outline whose entry names itself (or an earlier one) as the next grew a list until memory
//! ran out; here every entry and every node of the named-destination tree is visited once, the
//! walk stops after [`MAX_NODES`] nodes and [`MAX_DEPTH`] levels, and whatever cannot be read is
//! left out (the outline only names sections; the text comes from the pages).

use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::OutlineEntry;

/// Most outline entries (and, separately, named-destination tree nodes) visited: 20,000.
pub const MAX_NODES: usize = 20_000;
/// Deepest outline level read (1 = top level): 64; deeper entries are left out.
pub const MAX_DEPTH: usize = 64;

/// The outline's entries in outline order (an entry, its children, then its next sibling);
/// empty when the PDF has none or it cannot be read.
pub(super) fn outline(doc: &Document) -> Vec<OutlineEntry> {
    let Some(first) = doc
        .catalog()
        .ok()
        .and_then(|c| deref_dict(doc, c.get(b"Outlines").ok()?))
        .and_then(|o| o.get(b"First").ok())
    else {
        return Vec::new();
    };
    let pages: HashMap<ObjectId, u32> = doc.get_pages().into_iter().map(|(n, id)| (id, n)).collect();
    let mut named: Option<BTreeMap<Vec<u8>, ObjectId>> = None;
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut out = Vec::new();
    // Pre-order without recursion: a node's next sibling is pushed before its first child, so the
    // child (and its subtree) comes out first.
    let mut stack: Vec<(&Object, usize)> = vec![(first, 1)];
    let mut visited = 0;
    while let Some((obj, level)) = stack.pop() {
        if level > MAX_DEPTH || visited >= MAX_NODES {
            continue;
        }
        if let Object::Reference(id) = obj {
            if !seen.insert(*id) {
                continue; // a cycle: this entry was read already
            }
        }
        let Some(node) = deref_dict(doc, obj) else { continue };
        visited += 1;
        if let Some(entry) = entry(doc, node, level, &pages, &mut named) {
            out.push(entry);
        }
        if let Ok(next) = node.get(b"Next") {
            stack.push((next, level));
        }
        if let Ok(child) = node.get(b"First") {
            stack.push((child, level + 1));
        }
    }
    out
}

/// The entry `node` at `level`, when it has a title and a destination on one of `pages`.
fn entry(
    doc: &Document,
    node: &Dictionary,
    level: usize,
    pages: &HashMap<ObjectId, u32>,
    named: &mut Option<BTreeMap<Vec<u8>, ObjectId>>,
) -> Option<OutlineEntry> {
    let title = text(deref(doc, node.get(b"Title").ok()?)?)?;
    let title = crate::ingest::clean_heading(&title.replace(|c: char| c.is_control(), " "));
    if title.is_empty() {
        return None;
    }
    // The destination: `/Dest`, or a GoTo action's `/D`.
    let dest = match node.get(b"Dest") {
        Ok(d) => d,
        Err(_) => {
            let action = deref_dict(doc, node.get(b"A").ok()?)?;
            if action.get(b"S").ok()?.as_name().ok()? != b"GoTo" {
                return None;
            }
            action.get(b"D").ok()?
        }
    };
    let page = match deref(doc, dest)? {
        Object::Array(a) => page_of(a, pages)?,
        Object::Name(key) | Object::String(key, _) => {
            let names = named.get_or_insert_with(|| named_destinations(doc, pages));
            *pages.get(names.get(key.as_slice())?)?
        }
        _ => return None,
    };
    Some(OutlineEntry { level, title, page })
}

/// The page a destination array `[page /XYZ …]` names, when it is one of `pages`.
fn page_of(dest: &[Object], pages: &HashMap<ObjectId, u32>) -> Option<u32> {
    match dest.first()? {
        Object::Reference(id) => pages.get(id).copied(),
        _ => None,
    }
}

/// The document's named destinations that point at a page: the catalog's `/Dests` dictionary and
/// the `/Names` `/Dests` name tree, each node read once, at most [`MAX_NODES`] of them.
fn named_destinations(doc: &Document, pages: &HashMap<ObjectId, u32>) -> BTreeMap<Vec<u8>, ObjectId> {
    let mut out = BTreeMap::new();
    let Ok(catalog) = doc.catalog() else { return out };
    let target = |value: &Object| -> Option<ObjectId> {
        let value = deref(doc, value)?;
        let array = match value {
            Object::Array(a) => a.as_slice(),
            // A destination dictionary holds its array under /D.
            Object::Dictionary(d) => match deref(doc, d.get(b"D").ok()?)? {
                Object::Array(a) => a.as_slice(),
                _ => return None,
            },
            _ => return None,
        };
        match array.first()? {
            Object::Reference(id) if pages.contains_key(id) => Some(*id),
            _ => None,
        }
    };
    if let Some(dests) = catalog.get(b"Dests").ok().and_then(|d| deref_dict(doc, d)) {
        for (key, value) in dests.iter() {
            if let Some(id) = target(value) {
                out.insert(key.clone(), id);
            }
        }
    }
    let tree = catalog.get(b"Names").ok().and_then(|n| deref_dict(doc, n)).and_then(|n| n.get(b"Dests").ok());
    let mut stack: Vec<&Object> = tree.into_iter().collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut visited = 0;
    while let Some(obj) = stack.pop() {
        if visited >= MAX_NODES {
            break;
        }
        if let Object::Reference(id) = obj {
            if !seen.insert(*id) {
                continue;
            }
        }
        let Some(node) = deref_dict(doc, obj) else { continue };
        visited += 1;
        if let Some(Object::Array(pairs)) = node.get(b"Names").ok().and_then(|n| deref(doc, n)) {
            for pair in pairs.chunks_exact(2) {
                if let (Some(Object::String(key, _)), Some(id)) = (deref(doc, &pair[0]), target(&pair[1])) {
                    out.insert(key.clone(), id);
                }
            }
        }
        if let Some(Object::Array(kids)) = node.get(b"Kids").ok().and_then(|k| deref(doc, k)) {
            stack.extend(kids.iter());
        }
    }
    out
}

/// `obj`, or the object it refers to (one step: a reference to a reference is not followed).
fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Object> {
    match obj {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

fn deref_dict<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Dictionary> {
    deref(doc, obj)?.as_dict().ok()
}

/// A text string: UTF-16 with its byte order mark, UTF-8 (many producers write it without a
/// mark, though the format asks for PDFDocEncoding), else PDFDocEncoding.
fn text(obj: &Object) -> Option<String> {
    let Object::String(bytes, _) = obj else { return None };
    if !bytes.starts_with(b"\xFE\xFF") && !bytes.starts_with(b"\xEF\xBB\xBF") {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return Some(s.to_owned());
        }
    }
    lopdf::decode_text_string(obj).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    /// A one-page document whose outline entries are `entries(page, outlines_root)`.
    fn doc_with(entries: impl FnOnce(&mut Document, ObjectId, ObjectId) -> Object) -> Document {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
            ),
        );
        let outlines_id = doc.new_object_id();
        let first = entries(&mut doc, page_id, outlines_id);
        doc.objects
            .insert(outlines_id, Object::Dictionary(dictionary! { "Type" => "Outlines", "First" => first }));
        let catalog = doc
            .add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id, "Outlines" => outlines_id });
        doc.trailer.set("Root", catalog);
        doc
    }

    fn dest(page: ObjectId) -> Object {
        Object::Array(vec![page.into(), "XYZ".into(), 0.into(), 0.into(), 0.into()])
    }

    #[test]
    fn entries_in_outline_order_with_levels() {
        let doc = doc_with(|doc, page, parent| {
            let a = doc.new_object_id();
            let a1 = doc.add_object(
                dictionary! { "Title" => Object::string_literal("A.1"), "Parent" => a, "Dest" => dest(page) },
            );
            let b = doc.add_object(dictionary! { "Title" => Object::string_literal("B"), "Parent" => parent, "Dest" => dest(page) });
            doc.objects.insert(
                a,
                Object::Dictionary(dictionary! { "Title" => Object::string_literal("A"), "Parent" => parent, "Dest" => dest(page), "First" => a1, "Next" => b }),
            );
            a.into()
        });
        let got: Vec<(usize, String)> = outline(&doc).into_iter().map(|e| (e.level, e.title)).collect();
        assert_eq!(got, [(1, "A".to_string()), (2, "A.1".to_string()), (1, "B".to_string())]);
    }

    #[test]
    fn a_cycle_is_read_once() {
        // An entry whose /Next and /First name itself: lopdf's walker never stopped on this.
        let doc = doc_with(|doc, page, parent| {
            let a = doc.new_object_id();
            doc.objects.insert(
                a,
                Object::Dictionary(dictionary! { "Title" => Object::string_literal("Loop"), "Parent" => parent, "Dest" => dest(page), "Next" => a, "First" => a }),
            );
            a.into()
        });
        let got = outline(&doc);
        assert_eq!(got, [OutlineEntry { level: 1, title: "Loop".into(), page: 1 }]);
    }

    #[test]
    fn a_long_chain_stops_at_the_cap() {
        let doc = doc_with(|doc, page, parent| {
            let ids: Vec<ObjectId> = (0..MAX_NODES + 50).map(|_| doc.new_object_id()).collect();
            for (i, id) in ids.iter().enumerate() {
                let mut d = dictionary! { "Title" => Object::string_literal(format!("E{i}")), "Parent" => parent, "Dest" => dest(page) };
                if let Some(next) = ids.get(i + 1) {
                    d.set("Next", *next);
                }
                doc.objects.insert(*id, Object::Dictionary(d));
            }
            ids[0].into()
        });
        assert_eq!(outline(&doc).len(), MAX_NODES);
    }

    #[test]
    fn named_destinations_and_goto_actions() {
        let doc = doc_with(|doc, page, parent| {
            let b = doc.add_object(dictionary! {
                "Title" => Object::string_literal("By action"), "Parent" => parent,
                "A" => dictionary! { "S" => "GoTo", "D" => dest(page) },
            });
            let a = doc.add_object(dictionary! { "Title" => Object::string_literal("By name"), "Parent" => parent, "Dest" => Object::string_literal("intro"), "Next" => b });
            let tree =
                doc.add_object(dictionary! { "Names" => vec![Object::string_literal("intro"), dest(page)] });
            let names = doc.add_object(dictionary! { "Dests" => tree });
            doc.trailer.set("NamesHolder", names);
            a.into()
        });
        // The name tree hangs off the catalog's /Names.
        let mut doc = doc;
        let names = doc.trailer.get(b"NamesHolder").unwrap().as_reference().unwrap();
        let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
        doc.get_object_mut(root).unwrap().as_dict_mut().unwrap().set("Names", names);
        let got: Vec<String> = outline(&doc).into_iter().map(|e| e.title).collect();
        assert_eq!(got, ["By name", "By action"]);
    }
}
