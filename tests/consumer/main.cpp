// Compiles and runs against the installed or added library: the proxy template and the
// core are reachable through the documented include, without Asio.
#include <bb/core/sync_wait.hpp>
#include <bb/proxy.hpp>

bb::task<int> answer() { co_return 42; }

int main() { return bb::sync_wait(answer()) == 42 && bb::endpoint::parse("127.0.0.1:1100") ? 0 : 1; }
