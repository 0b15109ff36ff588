/**
 * The demo's machine payload: a tiny "pilot job" in POSIX sh, installed as a process
 * machinetype's user_data. Like a real pilot it takes tasks from its experiment's queue (a
 * directory; a task is claimed by an atomic rename, so two machines never run one task), runs a
 * few, and leaves a HEPiX shutdown message: `200` when it did its work, `300 No more work` when
 * the queue was empty, which makes every factory in the space back off from that machinetype.
 */
export const DEMO_PAYLOAD = `#!/bin/sh
queue='##user_data_option_queue##'
tasks_per_machine='##user_data_option_tasks_per_machine##'
done_tasks=0
echo "demo pilot on $(hostname), machinefeatures in $MACHINEFEATURES"
echo "shutdowntime: $(cat "$MACHINEFEATURES/shutdowntime")"
while [ "$done_tasks" -lt "$tasks_per_machine" ]; do
  task=$(ls "$queue/pending" 2>/dev/null | head -n 1)
  if [ -z "$task" ]; then
    echo "queue empty after $done_tasks task(s)"
    echo "300 No more work" > "$JOBOUTPUTS/shutdown_message"
    exit 0
  fi
  if mv "$queue/pending/$task" "$queue/running/$task.$$" 2>/dev/null; then
    seconds=$(cat "$queue/running/$task.$$")
    echo "running $task for $seconds s"
    sleep "$seconds"
    mv "$queue/running/$task.$$" "$queue/done/$task"
    done_tasks=$((done_tasks + 1))
  fi
done
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;
