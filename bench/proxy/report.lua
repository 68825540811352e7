-- wrk reporter for scripts/bench: after the run, one line that the script parses.
-- Latencies are wrk's (microseconds); errors are socket errors, non2xx the responses
-- whose status was not 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
