"""The desktop connector: windows and controls of desktop applications on an X display.

:mod:`.session` holds :class:`~connectors.desktop.session.DesktopSession` (one desktop: its
own accessibility bus, the applications started on it, the current window), :mod:`.atspi`
the accessibility tree over D-Bus, :mod:`.locate` the locator vocabulary (role and name,
automation id, ``within``, OCR text, offsets; fallbacks; strict answers), :mod:`.roles` our
role names with their AT-SPI roles and UI Automation control types, :mod:`.xinput` pointer,
keys and screenshots, :mod:`.ocr` Tesseract. This package is the only place that imports
GLib's bindings, xdotool, mss and Tesseract. See docs/desktop.md.
"""
