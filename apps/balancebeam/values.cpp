#include <apps/balancebeam/values.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

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

parsed<store_value::value> store_value::operator()(std::string_view text) const {
  if (text == "memory") return value{};
  auto u = bb::redis::parse_url(text);
  if (!u.value) return refusal{u.why};
  value v{std::move(*u.value), {}};
  for (const auto& h : v.url.hosts) {
    const bool v6 = h.host.find(':') != std::string::npos;
    auto ep = address((v6 ? "[" + h.host + "]" : h.host) + ":" + std::to_string(h.port));
    if (!ep) return refusal{ep.why()};
    v.servers.push_back(*ep);
  }
  return v;
}

std::string store_value::masked(std::string_view text) {
  const auto scheme = text.find("://");
  const auto at = text.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(text);
  return std::string(text.substr(0, scheme + 3)) + ":***" + std::string(text.substr(at));
}

parsed<bb::secret> secret_file_value::operator()(std::string_view path) const {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return refusal{std::string("cannot read: ") + std::strerror(errno)};
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  if (text.empty()) return refusal{"the file is empty"};
  if (text.find_first_of("\r\n") != std::string::npos) return refusal{"the file holds more than one line"};
  return bb::secret(std::move(text));
}

parsed<std::string> nonempty_text::operator()(std::string_view text) const {
  if (text.empty()) return refusal{"expected " + expected()};
  return std::string(text);
}

}  // namespace balancebeam
