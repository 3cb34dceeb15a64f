"""What the benchmarks share: the Engine.IO/Socket.IO wire client (`wire`), load generator
processes (`generator`), the servers under test (`servers`, on tests/harness/), measurement of a
window of load (`measure`, `machine`), table printing (`report`) and py-spy sampling
(`profile`)."""
