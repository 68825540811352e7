#pragma once
/// bb::cluster: the set of upstream hosts a proxy balances over.

#include <bb/proxy/config.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace bb {

/// One upstream host as the proxy sees it.
struct upstream_host {
  std::string name;
  endpoint address;
};

/// The upstream hosts, indexed from 0; fixed after start-up.
class cluster {
public:
  /// The hosts named in `upstreams`, in that order.
  explicit cluster(const std::vector<upstream_config>& upstreams) {
    hosts_.reserve(upstreams.size());
    for (const auto& u : upstreams) hosts_.push_back({u.name, u.address});
  }

  [[nodiscard]] std::size_t size() const noexcept { return hosts_.size(); }
  [[nodiscard]] const upstream_host& at(std::size_t i) const noexcept { return hosts_[i]; }

private:
  std::vector<upstream_host> hosts_;
};

}  // namespace bb
