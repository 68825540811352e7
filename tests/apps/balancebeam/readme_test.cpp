// The README's flag table is the one the flag table renders: editing either alone fails here.

#include <apps/balancebeam/flags.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#ifndef BB_README_PATH
#error "BB_README_PATH must name README.md (set by tests/CMakeLists.txt)"
#endif

TEST_CASE("balancebeam's flag table in README.md is what balancebeam --help-markdown renders", "[cli][balancebeam]") {
  std::ifstream in(BB_README_PATH);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- flags:begin -->\n", end = "<!-- flags:end -->";
  const auto from = readme.find(begin);
  const auto to = readme.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  REQUIRE(from < to);
  INFO("regenerate it: build/bin/balancebeam --help-markdown, between the markers in README.md");
  CHECK(readme.substr(from + begin.size(), to - from - begin.size()) == balancebeam::flag_markdown());
}
