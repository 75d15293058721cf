"""What the window shows besides the app: the loading view and the error view, and the render check.

Streamlit renders in the browser, so "the server answers health" does not mean "the user sees the
dashboard". :data:`RENDER_STATE_JS` reads the page: Streamlit's root element (``data-testid="stApp"``),
its script state (``notRunning`` after the first run), how many elements the main area shows, how many still show
a loading placeholder (their code is fetched lazily), whether one is an exception, and whether two
animation frames have passed since all had loaded (it was painted).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
from pathlib import Path
from typing import Any

APP_TITLE = "Expense Tracker"
"""The window title (also what tests search the window by)."""


_STYLE = """
html,body{height:100%;margin:0}
body{display:flex;align-items:center;justify-content:center;background:#f6f8f7;color:#1d2b26;
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:640px;padding:32px;text-align:center}
img{width:96px;height:96px}
h1{font-size:22px;font-weight:600;margin:16px 0 4px}
p{margin:6px 0;color:#4a5a54}
.spinner{width:28px;height:28px;margin:22px auto 0;border:3px solid #cfe3da;border-top-color:#1f7a5c;
 border-radius:50%;animation:spin .9s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
.error h1{color:#a02a2a}
code{display:block;margin:14px 0;padding:10px 12px;background:#fff;border:1px solid #d8e0dc;border-radius:6px;
 text-align:left;word-break:break-all;font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;color:#1d2b26}
"""


def icon_data_uri(icon: Path | None) -> str:
    """The icon as a ``data:`` URI for the HTML views ("" when there is none)."""
    if icon is None:
        return ""
    try:
        return "data:image/png;base64," + base64.b64encode(icon.read_bytes()).decode("ascii")
    except OSError:
        return ""


def _page(body: str, icon_uri: str, css_class: str = "") -> str:
    img = f'<img src="{icon_uri}" alt="">' if icon_uri else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{APP_TITLE}</title>'
        f'<style>{_STYLE}</style></head><body><main class="{css_class}">{img}{body}</main></body></html>'
    )


def loading_html(icon_uri: str = "") -> str:
    """Shown from the moment the window opens until the dashboard has rendered."""
    return _page(
        f'<h1>{APP_TITLE}</h1><p id="status">Opening your ledger…</p><div class="spinner" role="progressbar"></div>',
        icon_uri,
        "loading",
    )


def error_html(message: str, log_path: Path | str, icon_uri: str = "") -> str:
    """A readable error view: what went wrong, where the log is, what to do."""
    return _page(
        f"<h1>{APP_TITLE} could not start</h1>"
        f'<p id="message">{html.escape(message)}</p>'
        f'<p>Details are in the log file:</p><code id="log-path">{html.escape(str(log_path))}</code>'
        "<p>Close this window and start the app again. If it keeps failing, "
        "<b>expense-tracker serve</b> runs the app in your browser instead.</p>",
        icon_uri,
        "error",
    )


RENDER_STATE_JS = """
(function () {
  var app = document.querySelector('[data-testid="stApp"]');
  if (!app) { return {app: false, title: document.title}; }
  var main = document.querySelector('[data-testid="stMain"]') || app;
  var elements = main.querySelectorAll('[data-testid="stElementContainer"]').length;
  var script = app.getAttribute('data-test-script-state');
  // elements whose code is still loading show placeholders; the page is not there until they are gone
  var loading = document.querySelectorAll(
    '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]').length;
  if (script === 'notRunning' && elements > 0 && loading === 0 && !window.__etPaintRequested) {
    // two animation frames after the content is in the DOM, it has been painted
    window.__etPaintRequested = true;
    requestAnimationFrame(function () { requestAnimationFrame(function () { window.__etPainted = true; }); });
  }
  var painted = window.__etPainted === true;
  return {
    app: true,
    title: document.title,
    script: script,
    connection: app.getAttribute('data-test-connection-state'),
    elements: elements,
    loading: loading,
    painted: painted,
    exceptions: main.querySelectorAll('[data-testid="stException"]').length,
    // when the launcher's startup script ran in this page (ms after navigation), if it did
    startup: typeof window.__etStartup === 'number' ? Math.round(window.__etStartup) : null,
    // innerText forces a layout: only once, when the page is there
    text: painted && loading === 0 ? (main.innerText || '').slice(0, 20000) : '',
    // a table (st.dataframe) is drawn on a canvas: its rows are in the grid's accessibility table, which
    // comes a moment after the paint; one text per table ('' until then), cells joined by tabs, rows by
    // line breaks (no backslash escapes here: pywebview rewrites them)
    tables: painted && loading === 0 ? Array.prototype.map.call(
      main.querySelectorAll('[data-testid="stDataFrame"]'), function (frame) {
        return Array.prototype.map.call(frame.querySelectorAll('table tr'), function (row) {
          return Array.prototype.map.call(row.children, function (cell) { return cell.textContent; })
            .join(String.fromCharCode(9));
        }).join(String.fromCharCode(10)).slice(0, 20000);
      }) : []
  };
})()
"""


def is_rendered(state: Any) -> bool:
    """True once the first script run has finished, every element has loaded, and the page was painted."""
    return (
        isinstance(state, dict)
        and bool(state.get("app"))
        and state.get("script") == "notRunning"
        and int(state.get("elements") or 0) > 0
        and state.get("loading") == 0
        and state.get("painted") is True
    )


PREFETCHED_COMPONENTS = ("PlotlyChart", "DataFrame", "Metric", "Selectbox", "Multiselect", "Radio", "TextInput")
"""Streamlit's frontend loads each element's code when the element first arrives; the dashboard's
are fetched (and parsed: Plotly's is 4.7 MB) while the server is still running the page instead."""


def prefetch_js(components: tuple[str, ...] = PREFETCHED_COMPONENTS) -> str:
    """JavaScript that imports the frontend chunks of ``components`` ("" when none is found)."""
    spec = importlib.util.find_spec("streamlit")  # locates the package without importing it
    roots = list(spec.submodule_search_locations or []) if spec else []
    names: list[str] = []
    for root in roots:
        folder = Path(root) / "static" / "static" / "js"
        for component in components:
            found = sorted(folder.glob(f"{component}.*.js"))
            if len(found) == 1:
                names.append(found[0].name)
    if not names:
        return ""
    return (
        "(function (names) { names.forEach(function (name) {"
        " import(new URL('static/js/' + name, document.baseURI).href).catch(function () {}); });"
        f" return names.length; }})({json.dumps(names)})"
    )
