#!/bin/sh
# Install Frontdesk from this archive for the current user (default ~/.local) or into PREFIX (e.g. /usr/local).
# Usage: ./install.sh [PREFIX]      Uninstall: ./install.sh --uninstall [PREFIX]
set -eu
APP_ID=io.github.frontdesk.Frontdesk
here=$(cd "$(dirname "$0")" && pwd)
uninstall=0
if [ "${1:-}" = "--uninstall" ]; then uninstall=1; shift; fi
prefix=${1:-$HOME/.local}

remove() {
  rm -rf "$prefix/lib/frontdesk"
  rm -f "$prefix/bin/frontdesk" "$prefix/share/applications/$APP_ID.desktop" "$prefix/share/metainfo/$APP_ID.metainfo.xml"
  find "$prefix/share/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
}

if [ "$uninstall" = 1 ]; then
  remove
  echo "Frontdesk removed from $prefix"
  exit 0
fi
remove
mkdir -p "$prefix/lib" "$prefix/bin" "$prefix/share"
cp -R "$here/frontdesk" "$prefix/lib/frontdesk"
ln -s "$prefix/lib/frontdesk/frontdesk" "$prefix/bin/frontdesk"
cp -R "$here/share/." "$prefix/share/"
# The menu entry runs this installation, whether or not PREFIX/bin is on the PATH of the session.
desktop_file="$prefix/share/applications/$APP_ID.desktop"
sed -e "s|^Exec=frontdesk|Exec=\"$prefix/bin/frontdesk\"|" -e "s|^TryExec=frontdesk|TryExec=$prefix/bin/frontdesk|" \
  "$desktop_file" > "$desktop_file.tmp" && mv "$desktop_file.tmp" "$desktop_file"
# Refresh the desktop's caches where the tools exist; a missing tool only delays the menu entry.
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$prefix/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" || true
echo "Frontdesk installed in $prefix (run: $prefix/bin/frontdesk)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "Note: $prefix/bin is not on your PATH (the menu entry works anyway)." ;; esac
