"""The harness shared by the tests and the benchmarks:

- `processes`: child processes that die with their parent, also on `kill -9`; `free_port`;
- `servers`: the chat server in this process (`Server`) or as a child (`Subprocess`);
- `peers`: Socket.IO clients that record what they receive, so tests await instead of sleep;
- `accounts`: staff accounts written with the server's own store code;
- `waiting`: bounded polling, for what announces itself by no event.

The package imports nothing by itself; `processes` is standard library only, so that every
Python child of a test (through site/sitecustomize.py) can import it cheaply."""
