# Sphinx configuration for the generator tests: the shared manual (../manual/*.md, read by
# myst-parser) plus a reference page in Sphinx's own API markup (api.rst).
project = "Tidewater"
author = "docent tests"
extensions = ["myst_parser"]
root_doc = "contents"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["api.md"]
html_theme = "alabaster"
