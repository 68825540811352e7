#pragma once
/// bb::upstream_config: one upstream server as the operator configured it.

#include <bb/core/net.hpp>

#include <cstdint>
#include <string>

namespace bb {

/// One upstream server: the name it was configured by (sent as Host by health checks and
/// hashed by consistent-hash), the address the transport connects to, and its share of
/// the traffic relative to the others (`--upstream host:port,weight=N`).
struct upstream_config {
  std::string name;
  endpoint address;
  std::uint32_t weight = 1;
};

}  // namespace bb
