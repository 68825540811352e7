// bb::decide_retry, row by row: every failure kind against what was sent, what the client
// saw, where the connection came from, and the budget.

#include <bb/proxy/retry.hpp>

#include <catch2/catch.hpp>

using bb::attempt_failure;
using bb::retry_action;

namespace {
struct row {
  attempt_failure failure;
  bool idempotent, has_body, client_saw, reused, fresh_used;
  std::size_t attempts;
  retry_action expected;
};
}  // namespace

TEST_CASE("decide_retry moves, retries fresh or answers exactly as its table says", "[proxy][retry]") {
  using F = attempt_failure;
  using A = retry_action;
  constexpr std::size_t budget = 4;
  // clang-format off
  const auto r = GENERATE(values<row>({
      // nothing sent: any request moves on, whatever it is
      {F::connect_failed, false, true,  false, false, false, 1, A::other_host},
      {F::connect_failed, true,  false, false, false, false, 3, A::other_host},
      {F::connect_failed, true,  false, false, false, false, 4, A::answer_502},   // budget spent
      {F::unsent,         false, true,  false, false, false, 1, A::other_host},
      {F::unsent,         false, true,  false, true,  false, 1, A::same_host_fresh},  // a stale pooled one
      {F::unsent,         false, true,  false, true,  true,  2, A::other_host},
      {F::unsent,         true,  false, false, true,  false, 4, A::answer_502},
      // closed before any response byte, after the request went out
      {F::closed_early,   true,  false, false, true,  false, 1, A::same_host_fresh},
      {F::closed_early,   true,  false, false, true,  true,  2, A::other_host},
      {F::closed_early,   true,  false, false, false, false, 1, A::other_host},
      {F::closed_early,   false, false, false, true,  false, 1, A::answer_502},  // POST: never replayed
      {F::closed_early,   true,  true,  false, true,  false, 1, A::answer_502},  // PUT with a body
      {F::closed_early,   true,  false, true,  true,  false, 1, A::answer_502},  // a 1xx went out
      {F::closed_early,   true,  false, false, true,  false, 4, A::answer_502},
      // broken after bytes went out
      {F::broken,         true,  false, false, false, false, 1, A::other_host},
      {F::broken,         true,  false, false, true,  false, 1, A::other_host},   // not staleness: bytes came
      {F::broken,         false, false, false, false, false, 1, A::answer_502},
      {F::broken,         true,  true,  false, false, false, 1, A::answer_502},
      {F::broken,         true,  false, true,  false, false, 1, A::answer_502},
      {F::broken,         true,  false, false, false, false, 4, A::answer_502},
      // too slow: never replayed, 504
      {F::timed_out,      true,  false, false, false, false, 1, A::answer_504},
      {F::timed_out,      true,  false, false, true,  false, 1, A::answer_504},
      {F::timed_out,      false, true,  false, false, false, 1, A::answer_504},
      {F::timed_out,      true,  false, false, false, false, 4, A::answer_504},
  }));
  // clang-format on
  bb::attempt_facts f;
  f.failure = r.failure;
  f.idempotent = r.idempotent;
  f.has_body = r.has_body;
  f.client_saw_response = r.client_saw;
  f.reused = r.reused;
  f.fresh_retry_used = r.fresh_used;
  f.attempts = r.attempts;
  f.budget = budget;
  INFO("failure " << static_cast<int>(r.failure) << " idempotent " << r.idempotent << " body " << r.has_body << " saw "
                  << r.client_saw << " reused " << r.reused << " fresh used " << r.fresh_used << " attempts "
                  << r.attempts);
  CHECK(to_string(bb::decide_retry(f)) == to_string(r.expected));
}

TEST_CASE("decide_retry moves on, not fresh to the same host, once the cluster has that host down", "[proxy][retry]") {
  // sim --swarm --seed 724: up1's crash reached the proxy late (a throttled link), every
  // pooled connection there reset at once, and each one's fresh retry connected to up1,
  // which the first refusal had ejected: connects to a dead host 0 ms apart.
  const auto failure = GENERATE(attempt_failure::unsent, attempt_failure::closed_early);
  bb::attempt_facts f;
  f.failure = failure;
  f.idempotent = true;
  f.reused = true;
  f.budget = 4;
  CHECK(to_string(bb::decide_retry(f)) == to_string(retry_action::same_host_fresh));
  f.host_down = true;
  CHECK(to_string(bb::decide_retry(f)) == to_string(retry_action::other_host));
  f.attempts = 4;  // the budget still ends it
  CHECK(to_string(bb::decide_retry(f)) == to_string(retry_action::answer_502));
}

TEST_CASE("retry_budget gives each upstream an attempt and one fresh retry", "[proxy][retry]") {
  CHECK(bb::retry_budget(1) == 2);
  CHECK(bb::retry_budget(3) == 4);
}
