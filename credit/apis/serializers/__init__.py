"""Serializers of the API, one module per direction (conventions: input and output apart).

`inputs` only translate what a client sends; `outputs` render what a service or selector
returned.
"""
