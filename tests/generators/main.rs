//! Real documentation generators: one small manual (`tests/generators/manual/`, with a Sphinx API
//! page in `sphinx/api.rst` and the same API as a Rust crate in `crate/`) rendered by Sphinx
//! (alabaster and Read the Docs themes), MkDocs Material, mdBook, Hugo (with a theme of our own),
//! rustdoc and Docusaurus, then indexed with `docent index`. For each site: chunks come from the
//! main content only, every citation's anchor exists in its page, API entries are citable with
//! their own anchors, code blocks stay whole, permalink glyphs never reach the text.
//!
//! Run by `./build.sh test generators`, which installs the generators (a Python venv under
//! `.cache/generators`, Debian's Hugo, npm for Docusaurus) and points the tests at them:
//! `DOCENT_GENERATORS_BIN` (sphinx-build, mkdocs, mdbook), `DOCENT_HUGO`, `DOCENT_DOCUSAURUS`
//! (the folder with its node_modules). Not part of a plain `cargo test` (`test = false` in
//! Cargo.toml): `cargo test --test generators`.

mod check;
mod sites;

use check::{check_site, Expect};

#[test]
fn sphinx_alabaster() {
    let site = sites::sphinx("alabaster");
    check_site(&site, &Expect::sphinx(&site));
}

#[test]
fn sphinx_read_the_docs() {
    let site = sites::sphinx("sphinx_rtd_theme");
    check_site(&site, &Expect::sphinx(&site));
}

#[test]
fn mkdocs_material() {
    let site = sites::mkdocs();
    check_site(&site, &Expect::markdown(&site, ".html"));
}

#[test]
fn mdbook() {
    let site = sites::mdbook();
    check_site(&site, &Expect::markdown(&site, ".html"));
}

#[test]
fn hugo() {
    let site = sites::hugo();
    check_site(&site, &Expect::markdown(&site, ".html"));
}

#[test]
fn rustdoc() {
    let site = sites::rustdoc();
    check_site(&site, &Expect::rustdoc());
}

#[test]
fn docusaurus() {
    let site = sites::docusaurus();
    check_site(&site, &Expect::markdown(&site, "/index.html"));
}
