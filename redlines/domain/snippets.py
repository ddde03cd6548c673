"""The marks around matched words in a search snippet: the store's full-text search puts them in,
the output layer replaces them (brackets on a terminal, <mark> in HTML). Control characters, so
that no stored text can hold them."""

OPEN, CLOSE = "\x02", "\x03"
