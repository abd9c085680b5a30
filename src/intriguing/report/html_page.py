"""The report as one self-contained HTML page: its Markdown rendered, its images inlined, so that
the page can be opened or sent on its own."""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path

import markdown

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a1a1a; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; display: block;
         max-width: 100%; overflow-x: auto; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left;
          overflow-wrap: anywhere; }}
th {{ background: #f3f3f3; }}
tr:nth-child(even) td {{ background: #fafafa; }}
code {{ background: #f3f3f3; padding: 0 0.2rem; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def render_html(markdown_text: str, title: str, base_dir: Path) -> str:
    """Markdown -> one self-contained HTML page (images, relative to `base_dir`, inlined as
    data URIs)."""
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code", "toc"])
    body = re.sub(r'src="([^"]+)"', lambda m: f'src="{_data_uri(base_dir / m.group(1))}"', body)
    return HTML_TEMPLATE.format(title=html.escape(title), body=body)


def _data_uri(path: Path) -> str:
    """A file as a base64 data URI, its MIME type guessed from its name."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
