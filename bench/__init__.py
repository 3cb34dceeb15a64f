"""Benchmarks that print numbers: `python -m bench.chat_bench`, `python -m bench.flag_bench`."""
