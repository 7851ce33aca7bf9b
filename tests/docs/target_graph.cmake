# Checks that the picture of weft's targets in docs/architecture.md (the
# edges between the markers "target-graph") is the graph CMake builds:
# configures the project into WORK with --graphviz and compares the edges
# between weft's own targets (tests and benchmarks left out).
# Usage: cmake -DSRC=<checkout> -DWORK=<scratch dir> -P target_graph.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${WORK} -G Ninja
          -DWEFT_BUILD_BENCHMARKS=OFF --graphviz=${WORK}/targets.dot
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring ${SRC} into ${WORK} failed")
endif()

file(STRINGS ${WORK}/targets.dot dot_lines REGEX "// weft")
set(built "")
foreach(line IN LISTS dot_lines)
  if(line MATCHES "// (weft[A-Za-z0-9_:]*) -> (weft[A-Za-z0-9_:]*)$")
    # Each MATCHES resets CMAKE_MATCH_n: keep the pair first.
    set(from "${CMAKE_MATCH_1}")
    set(to "${CMAKE_MATCH_2}")
    if(NOT from MATCHES "^weft_test" AND NOT to MATCHES "^weft_test")
      list(APPEND built "${from} -> ${to}")
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES built)
list(SORT built)

file(STRINGS ${SRC}/docs/architecture.md doc_lines)
set(inside FALSE)
set(drawn "")
foreach(line IN LISTS doc_lines)
  if(line MATCHES "<!-- target-graph -->")
    set(inside TRUE)
  elseif(line MATCHES "<!-- /target-graph -->")
    set(inside FALSE)
  elseif(inside AND line MATCHES "^ *(weft[A-Za-z0-9_:]*) -> (weft[A-Za-z0-9_:]*)")
    set(from "${CMAKE_MATCH_1}")
    set(to "${CMAKE_MATCH_2}")
    list(APPEND drawn "${from} -> ${to}")
  endif()
endforeach()
list(SORT drawn)

if(NOT built STREQUAL drawn)
  string(REPLACE ";" "\n  " b "${built}")
  string(REPLACE ";" "\n  " d "${drawn}")
  message(FATAL_ERROR "docs/architecture.md's target graph is not CMake's.\n"
                      "CMake builds:\n  ${b}\ndocs/architecture.md draws:\n  ${d}")
endif()
list(LENGTH built n)
message(STATUS "target graph: ${n} edges, as drawn in docs/architecture.md")
