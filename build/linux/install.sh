#!/bin/sh
# Expense Tracker for any Linux distribution: add (or with --uninstall remove) the applications-menu entry,
# the icon, the bank-file types ("Open with Expense Tracker") and `expense-tracker` in ~/.local/bin, for the
# current user only. The app itself stays in this folder: move the folder first if you want it elsewhere,
# then run ./install.sh again. Nothing outside your home folder is touched; no root needed.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="$HOME/.local/bin"
entry="$data/applications/expense-tracker.desktop"
icon="$data/icons/hicolor/512x512/apps/expense-tracker.png"
mime="$data/mime/packages/expense-tracker.xml"
link="$bin/expense-tracker"
marker="X-Expense-Tracker-Install=$here"

refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$data/applications" || true; fi
    if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$data/mime" >/dev/null 2>&1 || true; fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true; fi
}

if [ "${1:-}" = "--uninstall" ]; then
    if [ -f "$entry" ] && ! grep -qx "$marker" "$entry"; then
        echo "$entry was not installed from $here: left alone (run the install.sh it came from)" >&2
        exit 1
    fi
    rm -f "$entry" "$icon" "$mime"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$here/expense-tracker" ]; then rm -f "$link"; fi
    refresh
    echo "Expense Tracker's menu entry, icon and file types are removed (your data is kept; this folder too)."
    exit 0
fi
if [ $# -gt 0 ]; then
    echo "usage: $0 [--uninstall]" >&2
    exit 2
fi
if [ ! -x "$here/expense-tracker" ]; then
    echo "$here/expense-tracker is missing: run install.sh from the unpacked Expense Tracker folder" >&2
    exit 1
fi

mkdir -p "$(dirname "$entry")" "$(dirname "$icon")" "$(dirname "$mime")" "$bin"
sed -e "s|^Exec=.*|Exec=\"$here/expense-tracker\" %f|" -e "s|^TryExec=.*|TryExec=$here/expense-tracker|" \
    "$here/share/applications/expense-tracker.desktop" > "$entry.tmp"
echo "$marker" >> "$entry.tmp"
mv "$entry.tmp" "$entry"
cp "$here/share/icons/hicolor/512x512/apps/expense-tracker.png" "$icon"
cp "$here/share/mime/packages/expense-tracker.xml" "$mime"
ln -sfn "$here/expense-tracker" "$link"
refresh
echo "Expense Tracker is in your applications menu; \`expense-tracker\` is in $bin."
echo "To remove the menu entry again: $here/install.sh --uninstall"
