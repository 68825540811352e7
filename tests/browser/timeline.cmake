# ctest driver (label browser): `sim --timeline` writes a page, headless Chromium renders it,
# and the rendered DOM must hold what the page promises: one state band per upstream, the
# outcome bars, the p50 and p99 latency lines, a marker per fault, the seed in the header.
# The screenshot stays in WORK as the test's artifact. Chromium missing is a failure, not a
# skip: scripts/install-deps installs it. Every process is bounded by a timeout.
#   cmake -DSIM=<sim> -DWORK=<dir> -P timeline.cmake
set(scenario upstream_flap)
set(seed 7)
set(upstreams 3)  # upstream_flap's up1, up2, up3
set(page ${WORK}/timeline.html)
set(shot ${WORK}/timeline.png)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

find_program(CHROMIUM NAMES chromium chromium-browser)
if(NOT CHROMIUM)
  message(FATAL_ERROR "chromium not found: scripts/install-deps installs it (Debian package chromium)")
endif()

execute_process(COMMAND ${SIM} --scenario ${scenario} --seed ${seed} --timeline ${page}
                RESULT_VARIABLE r OUTPUT_FILE ${WORK}/sim.out ERROR_FILE ${WORK}/sim.err TIMEOUT 120)
if(NOT r EQUAL 0)
  message(FATAL_ERROR "sim --timeline failed (${r}); see ${WORK}/sim.out")
endif()
file(READ ${page} html)
foreach(resource "<script" "src=\"http" "href=\"http" "@import" "url(")
  string(FIND "${html}" "${resource}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the page is not self-contained: it holds '${resource}'")
  endif()
endforeach()

# As root Chromium refuses to start without --no-sandbox; its profile goes into WORK so that
# runs never share one. `timeout -k` kills it (and what it started) if it ever hangs.
set(chromium timeout -k 5 60 ${CHROMIUM} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
    --no-first-run --hide-scrollbars --user-data-dir=${WORK}/profile --window-size=1200,700)
execute_process(COMMAND ${chromium} --dump-dom file://${page}
                RESULT_VARIABLE r OUTPUT_VARIABLE dom ERROR_FILE ${WORK}/chromium-dom.err TIMEOUT 70)
if(NOT r EQUAL 0)
  message(FATAL_ERROR "chromium --dump-dom failed (${r}); see ${WORK}/chromium-dom.err")
endif()
file(WRITE ${WORK}/dom.html "${dom}")
execute_process(COMMAND ${chromium} --screenshot=${shot} file://${page}
                RESULT_VARIABLE r OUTPUT_QUIET ERROR_FILE ${WORK}/chromium-shot.err TIMEOUT 70)
if(NOT r EQUAL 0 OR NOT EXISTS ${shot})
  message(FATAL_ERROR "chromium --screenshot failed (${r}); see ${WORK}/chromium-shot.err")
endif()
file(SIZE ${shot} shot_size)
if(shot_size LESS 10000)
  message(FATAL_ERROR "the screenshot ${shot} is ${shot_size} bytes: nothing was drawn")
endif()

# count(VAR REGEX): how many times REGEX matches the rendered DOM.
function(count var regex)
  string(REGEX MATCHALL "${regex}" all "${dom}")
  list(LENGTH all n)
  set(${var} ${n} PARENT_SCOPE)
endfunction()
# expect(WHAT N OP M): fails unless N OP M (OP: EQUAL, GREATER, ...).
function(expect what n op m)
  if(NOT n ${op} m)
    message(FATAL_ERROR "${what}: ${n}, expected ${op} ${m} (the rendered DOM is ${WORK}/dom.html)")
  endif()
  message(STATUS "${what}: ${n}")
endfunction()

count(bands "<g class=\"band\" data-upstream=\"up[0-9]+\"")
expect("state bands" ${bands} EQUAL ${upstreams})
count(health "<rect class=\"seg health (up|down)\"")
expect("health segments" ${health} GREATER ${upstreams})
count(down "<rect class=\"seg health down\"")
expect("segments where the cluster had an upstream down" ${down} GREATER 0)
count(crashed "<rect class=\"seg fault crashed\"")
expect("segments where an upstream was crashed" ${crashed} GREATER 0)
count(bars "<rect class=\"bar k2xx\"")
expect("2xx outcome bars" ${bars} GREATER 100)
count(p50 "<path class=\"lat p50\" d=\"M[0-9]")
expect("p50 latency lines" ${p50} EQUAL 1)
count(p99 "<path class=\"lat p99\" d=\"M[0-9]")
expect("p99 latency lines" ${p99} EQUAL 1)
count(crash_markers "<g class=\"fault-marker\" data-fault=\"crash\"")
expect("crash markers" ${crash_markers} GREATER 0)
count(restart_markers "<g class=\"fault-marker\" data-fault=\"restart\"")
expect("restart markers" ${restart_markers} GREATER 0)
count(seed_shown "<span id=\"seed\">${seed}</span>")
expect("the seed in the header" ${seed_shown} EQUAL 1)
count(svg "<svg[^>]*data-upstreams=\"${upstreams}\"")
expect("the chart" ${svg} EQUAL 1)
message(STATUS "screenshot: ${shot}")
