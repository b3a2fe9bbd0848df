"""What every PDF of Gasworks shares: one font for Chinese and Latin text, embedded, and line
breaking by measured width.

The font is WenQuanYi Micro Hei (文泉驿微米黑), a TrueType collection with glyf outlines, from the
paperang-p2-fonts-cjk package on PyPI, so `make run` on a fresh machine has it without any system
package. reportlab embeds a subset of a TrueType font (only the glyphs used), so a PDF shows the
same on every reader. reportlab's built-in CID font STSong-Light was not embedded (each reader
substituted its own) and spaced Latin text with CJK widths ("G asworks"); reportlab cannot embed
CFF-based OpenType fonts such as Noto Sans CJK.
"""

import unicodedata
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas

FONT = "WenQuanYiMicroHei"
# Characters that may not start a line (Chinese line-breaking rules, 避头点) and that may not end one.
NO_LINE_START = set("，。、；：！？）》」』】〕’”…·%,.;:!?)]}")
NO_LINE_END = set("（《「『【〔‘“([{")


def font() -> str:
    """The registered name of the embedded font (registered on first use)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        path = resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
        with resources.as_file(path) as file:
            pdfmetrics.registerFont(TTFont(FONT, str(file), subfontIndex=0))
    return FONT


def canvas(out, pagesize) -> pdfcanvas.Canvas:
    """A canvas whose every font is the embedded one: reportlab otherwise starts each page in
    Helvetica, which it never embeds."""
    return pdfcanvas.Canvas(out, pagesize=pagesize, initialFontName=font(), initialFontSize=10)


def _wide(char: str) -> bool:
    """A character that lines may break before or after (CJK ideographs, kana, full-width forms)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Unbreakable pieces: a Latin word with the spaces after it, or one wide character."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if _wide(char):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        elif char == " " and word and not word.endswith(" "):
            word += char
        elif word.endswith(" "):
            tokens.append(word)
            word = char
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def wrap(text: str, width: float, size: float, font_name: str | None = None) -> list[str]:
    """Lines of `text` no wider than `width` points at `size`: Latin words break at spaces (a
    word wider than a whole line is cut between characters), CJK between any two characters,
    keeping closing punctuation off the start of a line and opening punctuation off its end."""
    name = font_name or font()

    def measure(piece: str) -> float:
        return pdfmetrics.stringWidth(piece.rstrip(" "), name, size)

    def pieces(token: str) -> list[str]:
        """The token, or a word wider than a whole line cut between characters."""
        out: list[str] = []
        while measure(token) > width and len(token) > 1:
            cut = len(token) - 1
            while cut > 1 and measure(token[:cut]) > width:
                cut -= 1
            out.append(token[:cut])
            token = token[cut:]
        return [*out, token]

    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        line = ""
        for token in (piece for whole in _tokens(paragraph) for piece in pieces(whole)):
            if not line or measure(line + token) <= width:
                line += token
            elif (token[0] in NO_LINE_START or line[-1] in NO_LINE_END) and len(line.rstrip(" ")) > 1:
                # Carry the line's last character over with the token rather than break here.
                lines.append(line[:-1].rstrip(" "))
                line = line[-1] + token
            else:
                lines.append(line.rstrip(" "))
                line = token
        lines.append(line.rstrip(" "))
    return lines
