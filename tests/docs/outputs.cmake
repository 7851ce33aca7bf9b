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
  ENV WEFT_SEED=1 WEFT_ITERATIONS=1 WEFT_STRATEGY=surw
      WEFT_SURW_TARGET=4,2*2/1.1,2.0
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
set(abba weft-traces/demo-abba-deadlock-seed0.weft)
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

# "Testing code you did not write for weft": weft run on the test programs
# of tests/run, copied into the work directory under the names a reader
# would give them.
set(run_dir ${PROJECT_BINARY_DIR}/tests/run)
set(lost_update "cp ${run_dir}/run_lost_update lost_update")
weft_doc_output(run_lost_update EXIT 1 COMMAND bash -c
  "${lost_update} && ${weft} run -- ./lost_update")
weft_doc_output(run_lost_update_replay EXIT 1 COMMAND bash -c
  "${lost_update} && (${weft} run -- ./lost_update >/dev/null 2>&1 || true) && ${weft} run --replay weft-traces/lost_update-seed2.shrunk.weft -- ./lost_update")
weft_doc_output(run_lost_update_fixed COMMAND bash -c
  "cp ${run_dir}/run_lost_update_fixed lost_update && ${weft} run -- ./lost_update")
weft_doc_output(run_static EXIT 2 REQUIRES WEFT_CAN_LINK_STATIC COMMAND bash -c
  "cp ${run_dir}/run_static static_program && ${weft} run -- ./static_program")
weft_doc_output(run_missing EXIT 2 COMMAND ${weft} run -- ./not_there)
weft_doc_output(run_forks EXIT 2 COMMAND bash -c
  "cp ${run_dir}/run_forks forks && ${weft} run -- ./forks")
weft_doc_output(run_lock_order EXIT 1 COMMAND bash -c
  "cp ${run_dir}/run_lock_order lock_order && ${weft} run -- ./lock_order")
weft_doc_output(run_keys COMMAND bash -c
  "cp ${run_dir}/run_keys keys && ${weft} run -- ./keys")

# "Proving a fix within a bound", "Sharding and resuming an exhaustive
# search": the lines the tests that pin them print.
weft_doc_output(dpor_pass_lines COMMAND $<TARGET_FILE:sim_test>
  --gtest_filter=DporStrategy.TheGuidesPassLinesAreThese)
weft_doc_output(dfs_shard_lines COMMAND $<TARGET_FILE:sim_test>
  --gtest_filter=DfsShards.TheGuidesShardAndCheckpointLinesAreThese)
weft_doc_output(jobs_lines COMMAND $<TARGET_FILE:sim_test>
  --gtest_filter=WeftJobs.TheGuidesJobsLinesAreThese)
weft_doc_output(jobs_bad EXIT 2 ENV WEFT_JOBS=0
  COMMAND ${weft} demo lost-update)
weft_doc_output(checkpoint_corrupt EXIT 2
  ENV WEFT_STRATEGY=dfs WEFT_CHECKPOINT=corrupt.ckpt
  COMMAND bash -c "printf 'WEFTCKPT-not-really' >corrupt.ckpt && exec ${weft} demo lost-update")

# "A failing test" of the reactor chapter: the page test's report.
weft_doc_output(reactor_page_test EXIT 1
  COMMAND $<TARGET_FILE:example_reactor_page_test>)

# "Recording a program": a program that SIGKILLs itself loses no call;
# "Replaying against an allocator": a damaged slots log is refused
# (tests/docs/data/bad.slots.weft frees slot 0 twice).
weft_doc_output(alloc_record_kill EXIT 137
  COMMAND ${weft} alloc record -o self.weft -- $<TARGET_FILE:alloc_kill_prog> --self 50000)
weft_doc_output(alloc_bad_slots
  COMMAND bash -c "cp ${PROJECT_SOURCE_DIR}/tests/docs/data/bad.slots.weft . && ${weft} alloc replay bad.slots.weft || echo $?")

# "The determinism warning".
weft_doc_output(nondet COMMAND $<TARGET_FILE:example_nondet>)

# "Testing a reactor-based component" and "Coroutine services": reports
# the tests that find them print.
weft_doc_output(reactor_write_from_pool COMMAND $<TARGET_FILE:runtime_test>
  --gtest_filter=ReactorThread.AWriteFromAPoolThreadIsFound)
weft_doc_output(reactor_wedged_pool COMMAND $<TARGET_FILE:runtime_test>
  --gtest_filter=WedgedPool.IsFoundAsADeadlockListingEveryBlockedStrand)
weft_doc_output(service_rpc_cycle COMMAND $<TARGET_FILE:runtime_test>
  --gtest_filter=RpcCycle.SerialisingRequestsPerServiceDeadlocksAndTheReportSaysWhy)

# "Allocator tests in GoogleTest": a misaligning allocator caught.
weft_doc_output(alloc_budget_test EXIT 1
  COMMAND bash -c "mkdir -p testdata && cp ${PROJECT_SOURCE_DIR}/tests/docs/data/app.slots.weft testdata/ && cp $<TARGET_FILE:alloc_broken_misaligned> libmyalloc.so && exec $<TARGET_FILE:example_alloc_budget_test>")

# "Reproducing a production failure": the flaky reactor pool run under the
# flight recorder until a run fails, its recording replayed 100 times, the
# replay written as a schedule trace and drawn (the loops widen the race
# window with FLAKY_PAUSE_US, as the guide shows, so that they end within a
# few runs on a loaded machine too), the same for the
# clock-decided timeout and the call_after watchdog, and the recording
# replayed by the fixed program.
# (A ';' would split the command: the loops end their lines instead.)
set(flaky $<TARGET_FILE:flight_flaky_pool>)
set(deadline $<TARGET_FILE:flight_deadline>)
set(until_fails "\ndo :\ndone")
set(record_flaky
  "mkdir rec && while FLAKY_PAUSE_US=100 WEFT_RECORD=rec ${flaky} >/dev/null 2>&1${until_fails}")
weft_doc_output(flight_record COMMAND bash -c
  "mkdir rec && while FLAKY_PAUSE_US=100 WEFT_RECORD=rec ${flaky}${until_fails}")
weft_doc_output(flight_replay EXIT 1 COMMAND bash -c
  "${record_flaky} && WEFT_REPLAY=$(ls rec/*.trace) WEFT_REPLAY_TIMES=100 ${flaky}")
weft_doc_output(flight_timeline COMMAND bash -c
  "${record_flaky} && WEFT_REPLAY=$(ls rec/*.trace) WEFT_REPLAY_SCHEDULE=replayed.weft ${flaky} >/dev/null || ${weft} trace export replayed.weft --format html -o replayed.html >/dev/null && test -s replayed.html && ${weft} trace stat $(ls rec/*.trace)")
weft_doc_output(flight_deadline EXIT 1 COMMAND bash -c
  "mkdir rec && while WEFT_RECORD=rec ${deadline} >/dev/null 2>&1${until_fails} && WEFT_REPLAY=$(ls rec/*.trace) WEFT_REPLAY_TIMES=100 ${deadline}")
set(watchdog $<TARGET_FILE:flight_watchdog>)
weft_doc_output(flight_watchdog EXIT 1 COMMAND bash -c
  "mkdir rec && while WEFT_RECORD=rec ${watchdog} >/dev/null 2>&1${until_fails} && WEFT_REPLAY=$(ls rec/*.trace) WEFT_REPLAY_TIMES=100 ${watchdog}")
weft_doc_output(flight_divergence EXIT 1 COMMAND bash -c
  "${record_flaky} && FLAKY_FIXED=1 WEFT_REPLAY=$(ls rec/*.trace) ${flaky}")

# "Instrumented code": std::atomic and plain memory in code built with
# weft_instrument() (clang only, so compared in the clang builds where the
# instrumentation is available; .ci/test runs them in build-o0).
set(instrument_test $<TARGET_FILE:instrument_test> --gtest_brief=1)
weft_doc_output(instrument_thread_race INSTRUMENTED COMMAND ${instrument_test}
  "--gtest_filter=ThreadRaces.APlain*:ThreadRaces.UnderAStdMutex*")
weft_doc_output(instrument_strand_race INSTRUMENTED COMMAND ${instrument_test}
  "--gtest_filter=Races.APlainInt*:Races.UnderAWeftMutex*")
weft_doc_output(instrument_lockfree INSTRUMENTED COMMAND ${instrument_test}
  "--gtest_filter=LockFreeStack.TheUntagged*:LockFreeStack.TheTagged*:SpscQueue.Publishing*:SpscQueue.WritingBefore*")

# "Logs at production scale": weft alloc generate is deterministic per seed.
weft_doc_output(alloc_generate
  COMMAND ${weft} alloc generate --calls 1000000 --threads 4 --seed 1 -o big.calls.weft)
