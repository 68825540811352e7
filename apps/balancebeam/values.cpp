#include <apps/balancebeam/values.hpp>

#include <charconv>

namespace balancebeam {

using bb::cli::parsed;
using bb::cli::refusal;

parsed<bb::endpoint> address_value::operator()(std::string_view text) const {
  if (auto ep = bb::endpoint::parse(text)) return *ep;
  const auto colon = text.rfind(':');
  const auto port = colon == std::string_view::npos ? std::nullopt : bb::endpoint::parse_port(text.substr(colon + 1));
  if (!port || colon == 0) return refusal{"expected " + expected()};
  if (!resolve) return refusal{"cannot resolve: no resolver"};
  auto ep = resolve(std::string(text.substr(0, colon)), *port);
  if (!ep) return refusal{"cannot resolve: " + ep.error().message()};
  return *ep;
}

parsed<bb::upstream_config> upstream_value::operator()(std::string_view text) const {
  const auto comma = text.find(',');
  std::uint32_t weight = 1;
  if (comma != std::string_view::npos) {
    constexpr std::string_view key = "weight=";
    const auto option = text.substr(comma + 1);
    const auto n = option.starts_with(key) ? option.substr(key.size()) : std::string_view();
    auto w = bb::cli::whole<std::uint32_t>{1, max_weight}(n);
    if (!w) return refusal{"expected " + expected()};
    weight = *w;
  }
  const auto name = text.substr(0, comma);
  auto ep = address(name);
  if (!ep) return refusal{ep.why()};
  return bb::upstream_config{std::string(name), *ep, weight};
}

parsed<bb::ip_address> ip_value::operator()(std::string_view text) const {
  if (auto ip = bb::ip_address::parse(text)) return *ip;
  return refusal{"expected " + expected()};
}

parsed<std::string> path_value::operator()(std::string_view text) const {
  if (!text.starts_with('/')) return refusal{"expected " + expected()};
  return std::string(text);
}

}  // namespace balancebeam
