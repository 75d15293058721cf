"""Downloads in the Qt window: a save dialog, then the file is written where the user chose.

pywebview 6.2's Qt handler calls ``download.setPath()``, which Qt 6's ``QWebEngineDownloadRequest``
no longer has, and it proposes the URL's file name (Streamlit's media hash) instead of the name the
page gave (``st.download_button(file_name=...)``). :func:`install` replaces it before the window is
created.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

_log = logging.getLogger("desktop.downloads")


def default_folder() -> Path:
    """The user's Downloads folder (home if it does not exist)."""
    import platformdirs

    folder = Path(platformdirs.user_downloads_dir())
    return folder if folder.is_dir() else Path.home()


def _on_download_requested(view: Any, download: Any) -> None:
    """Slot of ``QWebEngineProfile.downloadRequested``: ask where to save, then accept or cancel."""
    from qtpy.QtWidgets import QFileDialog

    name = download.downloadFileName() or download.suggestedFileName() or "download"
    suffix = Path(name).suffix
    file_filter = f"*{suffix}" if suffix else ""
    path, _ = QFileDialog.getSaveFileName(view, "Save file", str(default_folder() / name), file_filter)
    if not path:
        _log.info("download of %s cancelled by the user", name)
        download.cancel()
        return
    target = Path(path)
    download.setDownloadDirectory(str(target.parent))
    download.setDownloadFileName(target.name)

    def finished() -> None:
        if download.isFinished():
            state = download.state()
            _log.info("download %s -> %s: %s", name, target, getattr(state, "name", state))

    download.isFinishedChanged.connect(finished)
    download.accept()
    _log.info("downloading %s to %s", name, target)


def install() -> None:
    """Use :func:`_on_download_requested` for every pywebview Qt window created from now on."""
    os.environ.setdefault("QT_API", "pyqt6")
    from webview.platforms import qt

    qt.BrowserView.on_download_requested = _on_download_requested  # type: ignore[method-assign]
