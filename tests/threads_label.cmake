# Included by ctest after the lists catch_discover_tests wrote (see tests/CMakeLists.txt):
# adds the label `threads` to the multi-threaded tests. set_tests_properties replaces
# LABELS, so each test keeps its own label beside the new one.
foreach(test IN LISTS bb_unit_tests_TESTS)
  if(test MATCHES "thread")
    set_tests_properties("${test}" PROPERTIES LABELS "unit;threads")
  endif()
endforeach()
foreach(test IN LISTS bb_loopback_tests_TESTS)
  set_tests_properties("${test}" PROPERTIES LABELS "loopback;threads")
endforeach()
