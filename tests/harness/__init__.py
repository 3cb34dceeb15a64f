"""The harness shared by the tests and the benchmarks: child processes that die with their
parent (`processes`), the chat server in this process or as a child (`servers`), and Socket.IO
clients that record what they receive (`peers`).

This package imports nothing by itself: `processes` is standard library only, so that the
benchmarks' load generators and every Python child of a test can import it cheaply."""
