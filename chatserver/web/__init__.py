"""The HTTP side of the server: the JSON API, the pages and the headers every response carries."""
