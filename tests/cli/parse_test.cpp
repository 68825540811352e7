// cli::parse: how a command line is split into flags and values, and the one line of
// each usage error, on a small table of its own.

#include <cli/parse.hpp>
#include <cli/values.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace bb::cli;

namespace {

struct toy {
  unsigned count = 0;
  std::string colour;
  std::vector<std::string> names;
  bool loud = false;
};

// Any text at all.
struct any_text {
  using value_type = std::string;
  [[nodiscard]] std::string expected() const { return "text"; }
  [[nodiscard]] std::string values() const { return "any text"; }
  parsed<std::string> operator()(std::string_view t) const { return std::string(t); }
};

std::vector<flag<toy>> toy_table() {
  return {
      {.name = "count",
       .short_name = 'c',
       .value_name = "N",
       .default_value = "3",
       .meaning = "how many",
       .sets = store(whole<unsigned>{1, 9}, &toy::count)},
      {.name = "name",
       .short_name = 'n',
       .value_name = "NAME",
       .meaning = "a name",
       .repeatable = true,
       .if_missing = "at least one --name is required",
       .sets = append(any_text{}, &toy::names)},
      {.name = "colour",
       .value_name = "WORD",
       .meaning = "which colour",
       .sets = store(one_of<std::string>{{{"red", "red"}, {"blue", "blue"}}}, &toy::colour)},
      {.name = "loud", .short_name = 'l', .meaning = "shout", .sets = store(boolean{}, &toy::loud)},
      {.name = "help", .short_name = 'h', .meaning = "help", .request = true},
      {.name = "secret", .meaning = "hidden request", .request = true, .hidden = true},
  };
}

command_line<toy> run(const std::vector<std::string>& args) { return parse(toy_table(), args); }

}  // namespace

TEST_CASE("cli::parse reads --flag value, --flag=value, -f value and -fvalue alike", "[cli][parse]") {
  const auto spelling = GENERATE(values<std::vector<std::string>>({
      {"--count", "7", "--name", "x"},
      {"--count=7", "--name=x"},
      {"-c", "7", "-n", "x"},
      {"-c7", "-nx"},
  }));
  const auto r = run(spelling);
  REQUIRE_FALSE(r.error);
  CHECK(r.settings.count == 7);
  CHECK(r.settings.names == std::vector<std::string>{"x"});
}

TEST_CASE("cli::parse takes the next argument as the value even when it starts with a dash", "[cli][parse]") {
  const auto r = run({"-n", "--count", "--count", "-1"});
  REQUIRE(r.error);
  CHECK(*r.error == usage_error{2, "invalid value for --count: '-1' (expected a whole number 1..9)"});
  CHECK(run({"-n", "--count"}).settings.names == std::vector<std::string>{"--count"});
}

TEST_CASE("cli::parse keeps every value of a repeatable flag in order, never split at commas", "[cli][parse]") {
  const auto r = run({"-n", "a,b", "--name", "c", "-nd"});
  REQUIRE_FALSE(r.error);
  CHECK(r.settings.names == std::vector<std::string>{"a,b", "c", "d"});
}

TEST_CASE("cli::parse lets the last of a repeated single-valued flag count", "[cli][parse]") {
  const auto r = run({"-n", "x", "--count", "2", "--count", "5"});
  REQUIRE_FALSE(r.error);
  CHECK(r.settings.count == 5);
  // Only the last is read at all: an earlier bad value is overridden, not reported.
  CHECK_FALSE(run({"-n", "x", "--count", "0", "--count", "5"}).error);
}

TEST_CASE("cli::parse reads a default through the row's parser only when the flag is absent", "[cli][parse]") {
  CHECK(run({"-n", "x"}).settings.count == 3);
  CHECK(run({"-n", "x"}).settings.colour.empty());  // no default: untouched
  CHECK(run({"-n", "x", "--colour", "red"}).settings.colour == "red");
}

TEST_CASE("cli::parse sets a switch without a value, alone or grouped behind one dash", "[cli][parse]") {
  CHECK(run({"-n", "x", "--loud"}).settings.loud);
  CHECK_FALSE(run({"-n", "x"}).settings.loud);
  const auto grouped = run({"-lc4", "-n", "x"});
  REQUIRE_FALSE(grouped.error);
  CHECK(grouped.settings.loud);
  CHECK(grouped.settings.count == 4);
  CHECK(*run({"-n", "x", "--loud=true"}).error == usage_error{2, "--loud takes no value"});
}

TEST_CASE("cli::parse stops at a request flag, after unknown flags but before values and strays", "[cli][parse]") {
  CHECK(run({"--help"}).request == "help");
  CHECK(run({"-h"}).request == "help");
  CHECK(run({"--secret"}).request == "secret");
  const auto despite = run({"--count", "0", "stray", "--help"});
  CHECK(despite.request == "help");
  CHECK_FALSE(despite.error);
  const auto unknown = run({"--help", "--bogus"});
  CHECK(unknown.request.empty());
  CHECK(*unknown.error == usage_error{2, "unknown flag --bogus"});
}

TEST_CASE("cli::parse answers each malformed command line with one line and its exit status", "[cli][parse]") {
  struct bad_line {
    std::vector<std::string> args;
    usage_error error;
  };
  const auto c = GENERATE(values<bad_line>({
      {{}, {1, "at least one --name is required"}},
      {{"--count", "5"}, {1, "at least one --name is required"}},
      {{"-n", "x", "--bogus"}, {2, "unknown flag --bogus"}},
      {{"-n", "x", "--bogus=1"}, {2, "unknown flag --bogus"}},
      {{"-n", "x", "-z"}, {2, "unknown flag -z"}},
      {{"-n", "x", "-lz"}, {2, "unknown flag -z"}},
      {{"-n", "x", "--count"}, {2, "missing value for --count"}},
      {{"-n", "x", "-c"}, {2, "missing value for --count"}},
      {{"-n", "x", "stray"}, {2, "unexpected argument 'stray'"}},
      {{"-n", "x", "-"}, {2, "unexpected argument '-'"}},
      {{"-n", "x", "--", "--count", "2"}, {2, "unexpected argument '--count'"}},
      {{"-n", "x", "--colour", "green"}, {2, "invalid value for --colour: 'green' (expected red or blue)"}},
      {{"-n", "x", "--count="}, {2, "invalid value for --count: '' (expected a whole number 1..9)"}},
  }));
  std::string line;
  for (const auto& a : c.args) line += a + ' ';
  INFO("command line: " << line);
  const auto r = run(c.args);
  REQUIRE(r.error);
  CHECK(*r.error == c.error);
}

TEST_CASE("cli::parse checks values in table order, whatever their order on the command line", "[cli][parse]") {
  const auto a = run({"--colour", "green", "--count", "0", "-n", "x"});
  const auto b = run({"-n", "x", "--count", "0", "--colour", "green"});
  REQUIRE(a.error);
  CHECK(*a.error == *b.error);
  CHECK(a.error->message == "invalid value for --count: '0' (expected a whole number 1..9)");
  // A missing required flag (exit 1) is found after the bad values of the rows above it,
  // before those of the rows below it.
  CHECK(run({"--count", "0"}).error->exit_status == 2);
  CHECK(run({"--colour", "green"}).error->exit_status == 1);
}

TEST_CASE("cli::parse leaves a request's row and an absent optional flag without effect", "[cli][parse]") {
  const auto r = run({"-n", "x"});
  REQUIRE_FALSE(r.error);
  CHECK(r.request.empty());
  CHECK_FALSE(r.settings.loud);
}

TEST_CASE("cli::flag::apply names the flag in a refusal, for a config file's loader as well", "[cli][parse]") {
  const auto table = toy_table();
  toy t;
  CHECK_FALSE(table[0].apply("4", t));
  CHECK(t.count == 4);
  const auto e = table[0].apply("10", t);
  REQUIRE(e);
  CHECK(*e == flag_error{"count", "10", "expected a whole number 1..9"});
  CHECK(to_string(*e) == "invalid value for --count: '10' (expected a whole number 1..9)");
  CHECK(t.count == 4);
}
