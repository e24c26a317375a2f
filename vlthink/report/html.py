"""Small HTML building blocks (escaped text, tags, tables) and the page's CSS and script."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


def esc(x: object) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def tag(name: str, content: str = "", **attrs: object) -> str:
    """``<name attrs>content</name>``; attribute names use ``_`` for ``-``, ``cls`` for class."""
    parts = []
    for k, v in attrs.items():
        if v is None or v is False:
            continue
        key = "class" if k == "cls" else k.replace("_", "-")
        parts.append(key if v is True else f'{key}="{esc(v)}"')
    head = " ".join([name, *parts])
    return f"<{head}>{content}</{name}>"


def img(src: str, alt: str, **attrs: object) -> str:
    return tag("img", "", src=src, alt=alt, **attrs).replace("></img>", ">")


def table(header: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "num") -> str:
    head = "".join(tag("th", esc(h)) for h in header)
    body = "".join(tag("tr", "".join(tag("td", esc(c)) for c in r)) for r in rows)
    return tag("table", tag("thead", tag("tr", head)) + tag("tbody", body), cls=cls)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
 background:#fafafa}
header{background:#263238;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;font-size:13px;color:#cfd8dc}
main{padding:8px 24px 40px;max-width:1500px}
h2{border-bottom:2px solid #263238;padding-bottom:4px;margin-top:28px}
h3{margin:18px 0 6px}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:8px 14px;border-radius:4px;
 font-size:13px}
.warn li{margin:2px 0}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
figure.chart{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px}
figure.chart img{display:block;max-width:100%}
figcaption{font-size:12px;color:#555;padding:2px 4px;width:0;min-width:calc(100% - 8px)}
/* the caption wraps to the chart's width instead of widening the figure */
table.num{border-collapse:collapse;font-size:12px;margin:6px 0;background:#fff}
table.num td,table.num th{border:1px solid #ddd;padding:2px 6px;text-align:left}
table.num th{background:#eceff1}
.note{font-size:12px;color:#555}
.filters{position:sticky;top:0;background:#fafafa;padding:6px 0;z-index:2;font-size:13px}
.filters label{margin-right:10px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #ccc;border-radius:4px;width:500px;padding:6px;
 font-size:12px}
.card .frames{display:flex;gap:4px;flex-wrap:wrap}
.card .frames figure{margin:0;font-size:10px;color:#666}
.card img,.card video{width:160px;display:block}
.badge{display:inline-block;color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}
.instr{font-family:ui-monospace,monospace;margin:3px 0}
code{background:#eceff1;padding:0 3px;border-radius:2px;word-break:break-all}
"""

SCRIPT = """
function applyFilters(){
  var on={};
  document.querySelectorAll('.filters input').forEach(function(i){on[i.value]=i.checked;});
  document.querySelectorAll('.card').forEach(function(c){
    c.style.display=on[c.dataset.outcome]===false?'none':'';
  });
}
document.querySelectorAll('.filters input').forEach(function(i){
  i.addEventListener('change',applyFilters);
});
"""


def page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{esc(title)}</title><link rel="icon" href="data:,">'
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<main>{body}</main><script>{SCRIPT}</script></body></html>\n"
    )
