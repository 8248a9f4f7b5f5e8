"""The value syntax people type, in the CLI's flags and the GUI's text fields alike.

A number, ``true``/``false``, ``none``, a comma tuple of those (``0.9,0.999``) or a bare word.
"""


def parse_value(text: str):
    """``"0.1"`` -> 0.1, ``"3"`` -> 3, ``"0.9,0.99"`` -> (0.9, 0.99), ``"none"`` -> None, a word -> itself."""
    text = text.strip()
    if "," in text:
        return tuple(parse_value(part) for part in text.split(","))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
