// The usage texts a flag table renders: --help for a terminal, the README's Markdown table.

#include <cli/usage.hpp>
#include <cli/values.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace bb::cli;

namespace {

struct toy {
  unsigned count = 0;
  std::vector<unsigned> extra;
  bool loud = false;
};

std::vector<flag<toy>> toy_table() {
  return {
      {.name = "count",
       .short_name = 'c',
       .value_name = "N",
       .default_value = "3",
       .meaning = "how many `things` ({values}), counted one by one by the machine in the back room, which is "
                  "slow but very careful about it",
       .sets = store(whole<unsigned>{1, 9}, &toy::count)},
      {.name = "extra",
       .value_name = "N",
       .default_shown = "as | many",
       .meaning = "see [Extras](#extras)",
       .repeatable = true,
       .sets = append(whole<unsigned>{}, &toy::extra)},
      {.name = "loud", .meaning = "shout: a|b", .sets = store(boolean{}, &toy::loud)},
      {.name = "help", .short_name = 'h', .meaning = "print this help", .request = true},
      {.name = "secret", .meaning = "not for your eyes", .request = true, .hidden = true},
  };
}

}  // namespace

TEST_CASE("cli::plain drops Markdown's backticks and keeps a link's text", "[cli][usage]") {
  CHECK(plain("`a` and [the b section](#b), [not a link") == "a and the b section, [not a link");
  CHECK(plain("") == "");
}

TEST_CASE("cli::meaning_of puts the values a row accepts where its meaning says {values}", "[cli][usage]") {
  const auto t = toy_table();
  CHECK(meaning_of(t[0]).starts_with("how many `things` (1..9), counted"));
  CHECK(meaning_of(t[2]) == "shout: a|b");
}

TEST_CASE("cli::help_text lists every row but the hidden, with value, default and meaning", "[cli][usage]") {
  const auto help = help_text("toy: a test.\n\nusage: toy [flags]", toy_table());
  CHECK(help.starts_with("toy: a test.\n\nusage: toy [flags]\n\nflags:\n"));
  CHECK_THAT(help, Catch::Contains("  -c, --count N  (default: 3)\n      how many things (1..9), counted"));
  CHECK_THAT(help, Catch::Contains("  --extra N  (default: as | many; repeatable)\n      see Extras\n"));
  CHECK_THAT(help, Catch::Contains("  --loud\n      shout: a|b\n"));
  CHECK_THAT(help, Catch::Contains("  -h, --help\n      print this help\n"));
  CHECK_THAT(help, !Catch::Contains("secret"));
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 80);
  }
}

TEST_CASE("cli::markdown_table has one row per flag but the hidden, with | escaped", "[cli][usage]") {
  CHECK(markdown_table(toy_table()) ==
        "| flag | default | meaning |\n"
        "|---|---|---|\n"
        "| `-c, --count` | `3` | how many `things` (1..9), counted one by one by the machine in the back room, "
        "which is slow but very careful about it |\n"
        "| `--extra` | as \\| many, repeatable | see [Extras](#extras) |\n"
        "| `--loud` |  | shout: a\\|b |\n"
        "| `-h, --help` |  | print this help |\n");
}
