#pragma once
/// balancebeam's flag table: each flag's names, default, accepted values, meaning, and the
/// setting it sets. The command line is read through it, and --help and the README's flag
/// table are rendered from it, so the three cannot drift apart.

#include <apps/balancebeam/values.hpp>
#include <cli/flag.hpp>
#include <cli/parse.hpp>

#include <bb/core/log.hpp>
#include <bb/proxy/config.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace balancebeam {

/// Everything balancebeam's flags set.
struct settings {
  bb::proxy_config proxy;                         ///< the proxy's configuration
  std::optional<unsigned> threads;                ///< worker threads (`--threads`); none: one per core
  bb::log_level log_level = bb::log_level::info;  ///< the least severe record logged (`--log-level`)
  std::optional<std::uint64_t> seed;              ///< the balancing seed (`--seed`); none: drawn at start
  std::optional<bb::endpoint> admin;              ///< the admin listener's address (`--admin`); none: off
};

/// The flags in --help order, which is also the order their values are checked in;
/// `resolve` turns the names in --bind and --upstream into addresses.
std::vector<bb::cli::flag<settings>> flag_table(resolve_fn resolve);

/// Reads balancebeam's command line (argv without the program's name); names are resolved
/// through `resolve`.
bb::cli::command_line<settings> parse_cli(const std::vector<std::string>& args, resolve_fn resolve);

/// What `balancebeam --help` prints.
std::string help_text();

/// The README's flag table, in Markdown (what the hidden `balancebeam --help-markdown` prints).
std::string flag_markdown();

}  // namespace balancebeam
