#pragma once
// A scenario as case-file text and back, in memory: what the case-file and shrink tests
// compare and replay.

#include <sim/case_file.hpp>
#include <sim/scenario.hpp>

#include <sstream>
#include <string>

namespace sim_test {

/// `sc` written as a case file.
inline std::string text_of(const bb::sim::scenario& sc) {
  std::ostringstream out;
  bb::sim::write_case(out, sc);
  return out.str();
}

/// The scenario the case-file `text` describes (errors name the file "t.case").
inline bb::sim::scenario read_text(const std::string& text) {
  std::istringstream in(text);
  return bb::sim::read_case(in, "t.case");
}

}  // namespace sim_test
