//! Builds the manual with each generator into a temporary folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A site a generator wrote.
pub struct Site {
    /// The generator, for messages.
    pub name: &'static str,
    /// The folder of HTML pages (inside `_tmp`).
    pub root: PathBuf,
    /// Where each page of the manual (`index`, `install`, `config`, `api`) landed, as a url
    /// relative to `root`; `api` is absent for rustdoc (its API is the crate).
    pub pages: Vec<(&'static str, String)>,
    _tmp: tempfile::TempDir,
}

impl Site {
    /// The url of a manual page.
    pub fn page(&self, name: &str) -> &str {
        &self
            .pages
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{}: no page {name}", self.name))
            .1
    }
}

/// The manual's pages, in reading order.
pub const PAGES: [&str; 4] = ["index", "install", "config", "api"];

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/generators")
}

/// A generator's executable: `$DOCENT_GENERATORS_BIN/name` (the venv `./build.sh test
/// generators` makes), else `$CARGO_MANIFEST_DIR/.cache/generators/venv/bin/name`.
fn venv_tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("DOCENT_GENERATORS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/generators/venv/bin"));
    let tool = dir.join(name);
    assert!(
        tool.exists(),
        "{} is missing: run ./build.sh test generators (it installs the generators) or set DOCENT_GENERATORS_BIN",
        tool.display()
    );
    tool
}

/// Runs a generator; a failure shows its output.
fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().unwrap()
}

fn pages(urls: impl Fn(&str) -> String) -> Vec<(&'static str, String)> {
    PAGES.iter().map(|p| (*p, urls(p))).collect()
}

/// Sphinx with `theme`: the manual's Markdown through myst-parser, the API page in Sphinx's own
/// markup (`sphinx/api.rst`: classes, methods, attributes, functions, options, environment
/// variables, configuration values).
pub fn sphinx(theme: &str) -> Site {
    let t = tmp("docent-gen-sphinx-");
    let src = t.path().join("src");
    copy_dir(&fixtures().join("manual"), &src);
    std::fs::remove_file(src.join("api.md")).unwrap();
    copy_dir(&fixtures().join("sphinx"), &src);
    let out = t.path().join("html");
    run(
        Command::new(venv_tool("sphinx-build"))
            .args(["-q", "-b", "html", "-D"])
            .arg(format!("html_theme={theme}"))
            .arg(&src)
            .arg(&out),
        "sphinx-build",
    );
    let name = if theme == "alabaster" { "sphinx (alabaster)" } else { "sphinx (read the docs)" };
    Site { name, root: out, pages: pages(|p| format!("{p}.html")), _tmp: t }
}

pub fn mkdocs() -> Site {
    let t = tmp("docent-gen-mkdocs-");
    let project = t.path().join("project");
    copy_dir(&fixtures().join("mkdocs"), &project);
    copy_dir(&fixtures().join("manual"), &project.join("docs"));
    let out = t.path().join("html");
    run(
        Command::new(venv_tool("mkdocs"))
            .args(["build", "--strict", "-q", "-d"])
            .arg(&out)
            .current_dir(&project)
            .env("NO_MKDOCS_2_WARNING", "1"),
        "mkdocs build",
    );
    Site { name: "mkdocs material", root: out, pages: pages(|p| format!("{p}.html")), _tmp: t }
}

pub fn mdbook() -> Site {
    let t = tmp("docent-gen-mdbook-");
    let project = t.path().join("book");
    copy_dir(&fixtures().join("mdbook"), &project);
    copy_dir(&fixtures().join("manual"), &project.join("src"));
    std::fs::rename(project.join("SUMMARY.md"), project.join("src/SUMMARY.md")).unwrap();
    let out = t.path().join("html");
    run(Command::new(venv_tool("mdbook")).arg("build").arg("-d").arg(&out).arg(&project), "mdbook build");
    Site { name: "mdbook", root: out, pages: pages(|p| format!("{p}.html")), _tmp: t }
}

/// Hugo with the layouts in `hugo/layouts`: the manual's pages get front matter (title from the
/// first heading, weight for the order); `index` is the home page.
pub fn hugo() -> Site {
    let t = tmp("docent-gen-hugo-");
    let project = t.path().join("site");
    copy_dir(&fixtures().join("hugo"), &project);
    let content = project.join("content");
    std::fs::create_dir_all(&content).unwrap();
    for (weight, page) in PAGES.iter().enumerate() {
        let text = std::fs::read_to_string(fixtures().join("manual").join(format!("{page}.md"))).unwrap();
        let title = text.lines().find_map(|l| l.strip_prefix("# ")).unwrap();
        let name = if *page == "index" { "_index.md".to_string() } else { format!("{page}.md") };
        let front = format!("---\ntitle: \"{title}\"\nweight: {}\n---\n", weight + 1);
        std::fs::write(content.join(name), front + &text).unwrap();
    }
    let out = t.path().join("html");
    let hugo = std::env::var_os("DOCENT_HUGO").unwrap_or_else(|| "hugo".into());
    run(
        Command::new(hugo).args(["--quiet", "--source"]).arg(&project).arg("--destination").arg(&out),
        "hugo",
    );
    Site { name: "hugo", root: out, pages: pages(|p| format!("{p}.html")), _tmp: t }
}

/// `cargo doc` of the fixture crate (`crate/`); the site is its `doc/` folder.
pub fn rustdoc() -> Site {
    let t = tmp("docent-gen-rustdoc-");
    let project = t.path().join("crate");
    copy_dir(&fixtures().join("crate"), &project);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(
        Command::new(cargo)
            .args(["doc", "--quiet", "--no-deps", "--offline", "--manifest-path"])
            .arg(project.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", t.path().join("target"))
            .env_remove("RUSTDOCFLAGS"),
        "cargo doc",
    );
    let root = t.path().join("target/doc");
    let pages = vec![("index", "tidewater/index.html".to_string())];
    Site { name: "rustdoc", root, pages, _tmp: t }
}

/// Docusaurus (classic preset) from `$DOCENT_DOCUSAURUS`, else `tests/generators/docusaurus`
/// (a folder with its node_modules, which `./build.sh test generators` installs with npm ci):
/// the manual's pages as docs, served at the site root.
pub fn docusaurus() -> Site {
    let modules = std::env::var_os("DOCENT_DOCUSAURUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixtures().join("docusaurus"));
    let bin = modules.join("node_modules/@docusaurus/core/bin/docusaurus.mjs");
    assert!(
        bin.exists(),
        "{} is missing: run ./build.sh test generators (it installs Docusaurus) or set DOCENT_DOCUSAURUS",
        bin.display()
    );
    let t = tmp("docent-gen-docusaurus-");
    let project = t.path().join("site");
    std::fs::create_dir_all(&project).unwrap();
    for file in ["docusaurus.config.js", "sidebars.js", "package.json"] {
        std::fs::copy(fixtures().join("docusaurus").join(file), project.join(file)).unwrap();
    }
    copy_dir(&fixtures().join("manual"), &project.join("docs"));
    // Docusaurus resolves its packages from the site folder.
    #[cfg(unix)]
    std::os::unix::fs::symlink(modules.join("node_modules"), project.join("node_modules")).unwrap();
    let out = t.path().join("html");
    run(
        Command::new("node")
            .arg(&bin)
            .arg("build")
            .arg("--out-dir")
            .arg(&out)
            .current_dir(&project)
            .env("DOCUSAURUS_TELEMETRY_DISABLED", "1")
            // Its webpack cache lives in the shared node_modules and is not keyed by site folder:
            // a cache from another temporary folder breaks the static rendering.
            .env("DOCUSAURUS_NO_PERSISTENT_CACHE", "1"),
        "docusaurus build",
    );
    let pages = pages(|p| if p == "index" { "index.html".to_string() } else { format!("{p}/index.html") });
    Site { name: "docusaurus", root: out, pages, _tmp: t }
}
