// The flag value parsers: what text each accepts, and the words of each refusal.

#include <cli/values.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

using namespace bb::cli;
using namespace std::chrono_literals;

TEST_CASE("cli::whole accepts plain decimal from min to max and nothing else", "[cli][values]") {
  const whole<std::uint32_t> w{1, 1000};
  struct text_case {
    std::string text;
    bool accepted;
  };
  const auto c = GENERATE(values<text_case>({
      {"1", true},
      {"1000", true},
      {"42", true},
      {"0", false},
      {"1001", false},
      {"", false},
      {"-1", false},
      {"+5", false},
      {" 5", false},
      {"5 ", false},
      {"5k", false},
      {"0x10", false},
      {"1.5", false},
      {"99999999999999999999999", false},
  }));
  INFO("text: '" << c.text << "'");
  const auto v = w(c.text);
  CHECK(static_cast<bool>(v) == c.accepted);
  if (!c.accepted) CHECK(v.why() == "expected a whole number 1..1000");
}

TEST_CASE("cli::whole reads the whole range of its type when not told otherwise", "[cli][values]") {
  const whole<std::uint64_t> w{};
  CHECK(*w("18446744073709551615") == UINT64_MAX);
  CHECK(!w("18446744073709551616"));
  CHECK(w.expected() == "a whole number 0..18446744073709551615");
  CHECK(*whole<std::int64_t>{0, 10}("10") == 10);
}

TEST_CASE("cli::seconds accepts fractions, more than 0 and at most its maximum", "[cli][values]") {
  const seconds s{};
  CHECK(*s("2") == 2s);
  CHECK(*s("0.5") == 500ms);
  CHECK(*s("86400") == 86400s);
  CHECK(*s("1e3") == 1000s);
  for (const char* bad : {"0", "0.0", "-1", "86400.5", "100000", "1s", "soon", "", "nan", "inf"}) {
    INFO("text: '" << bad << "'");
    const auto v = s(bad);
    CHECK(!v);
    CHECK(v.why() == "expected seconds, more than 0 and at most 86400");
  }
  CHECK(seconds{60}.expected() == "seconds, more than 0 and at most 60");
}

TEST_CASE("cli::one_of accepts its words and aliases but lists only its listed words", "[cli][values]") {
  const one_of<int> words{{{"red", 1, "warm"}, {"green", 2}, {"verde", 2, "", false}, {"blue", 3}}};
  CHECK(*words("red") == 1);
  CHECK(*words("verde") == 2);
  CHECK(!words("Red"));
  CHECK(words("purple").why() == "expected red, green or blue");
  CHECK(words.values() == "`red` (warm), `green`, `blue`");
  CHECK(one_of<int>{{{"only", 1}}}.expected() == "only");
}

TEST_CASE("cli::boolean reads true and false, the texts a switch and a config file give", "[cli][values]") {
  CHECK(*boolean{}("true"));
  CHECK(!*boolean{}("false"));
  CHECK(boolean{}("yes").why() == "expected true or false");
}

TEST_CASE("cli::mapped maps what its parser reads and passes a refusal on unchanged", "[cli][values]") {
  const mapped m{whole<std::uint64_t>{}, [](std::uint64_t n) { return n == 0 ? UINT64_MAX : n; }};
  CHECK(*m("0") == UINT64_MAX);
  CHECK(*m("7") == 7);
  CHECK(m("-1").why() == "expected a whole number 0..18446744073709551615");
  CHECK(m.expected() == whole<std::uint64_t>{}.expected());
}
