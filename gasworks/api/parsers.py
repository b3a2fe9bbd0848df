"""The API's JSON parser: every malformed body, however deep, is a 400 ParseError."""

import codecs

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from gasworks.lib import safejson


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return safejson.loads(text, parse_constant=strict_constant if self.strict else None)
        except safejson.TooDeep:
            raise ParseError(_("The JSON body is nested too deeply.")) from None
        except ValueError as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None
