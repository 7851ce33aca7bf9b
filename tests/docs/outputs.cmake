# The commands behind the outputs shown in README.md and docs/guide.md, one
# group per chapter (tests/docs/README.md). Add your chapter's group at the
# end; keep the IDs the markers use.
set(weft $<TARGET_FILE:weft>)
set(examples ${PROJECT_BINARY_DIR}/docs/examples)

# README.md, and the guide's "Trace files": the demo's report.
weft_doc_output(demo_lost_update COMMAND ${weft} demo lost-update)

# "Writing a first weft test", "Reading a failure", "Replaying it".
weft_doc_output(first_test COMMAND $<TARGET_FILE:example_first_test>)
weft_doc_output(fixed_counter COMMAND $<TARGET_FILE:example_fixed_counter>)
weft_doc_output(demo_abba_deadlock COMMAND ${weft} demo abba-deadlock)
weft_doc_output(first_test_by_seed
  ENV WEFT_SEED=4 WEFT_ITERATIONS=1 WEFT_STRATEGY=surw "WEFT_SURW_PROFILE=8,4*2"
  COMMAND $<TARGET_FILE:example_first_test>)
weft_doc_output(bad_strategy EXIT 2 ENV WEFT_STRATEGY=nope
  COMMAND ${weft} demo lost-update)
weft_doc_output(bad_iterations EXIT 2 ENV WEFT_ITERATIONS=0
  COMMAND ${weft} demo lost-update)

# "When code under test crashes" (containment is off under TSan, and the
# checks run in plain builds only).
weft_doc_output(crash COMMAND $<TARGET_FILE:example_crash>)

# "Spin loops and yield_now", "Time".
weft_doc_output(spin_loop COMMAND $<TARGET_FILE:example_spin_loop>)
weft_doc_output(timers COMMAND $<TARGET_FILE:example_timers>)

# "weft trace": show and stat of the deadlock demo's trace.
set(abba weft-traces/demo-abba-deadlock-seed23.weft)
weft_doc_output(trace_show_abba COMMAND bash -c
  "${weft} demo abba-deadlock >/dev/null 2>&1 && ${weft} trace show ${abba}")
weft_doc_output(trace_stat_abba COMMAND bash -c
  "${weft} demo abba-deadlock >/dev/null 2>&1 && ${weft} trace stat ${abba}")

# "Testing a reactor-based component", "Isolates".
weft_doc_output(reactor_silly_blocking
  COMMAND $<TARGET_FILE:example_reactor_silly_blocking> --quick)
weft_doc_output(worldgen COMMAND $<TARGET_FILE:example_worldgen> --quick)

# "Testing an event-loop server": the five bugs and the shrunk trace of one.
weft_doc_output(echo_bugs COMMAND $<TARGET_FILE:example_echo_bugs>)
weft_doc_output(echo_trace_show COMMAND bash -c
  "$<TARGET_FILE:example_echo_bugs> >/dev/null 2>&1 && ${weft} trace show weft-traces/echo-closes-on-half-close-seed1.shrunk.weft | grep -E ' net  |FAILURE'")
