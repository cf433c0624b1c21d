# Sourced by gpu_check.sh and cpu_check.sh: ``step SECONDS TITLE -- command...`` runs the command with a time
# limit, appends its output (the last $TAIL lines, default 60; all of it goes to $LOG) to the Markdown file $MD
# under the heading TITLE, with its exit status and the time it took ($T0: when the whole check began). A step
# that fails is logged and the next one runs.
step() {
  local limit=$1 title=$2; shift 3
  echo "## $title" >>"$MD"
  echo '```' >>"$MD"
  local s=$(date +%s)
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG" | grep -v -E "^\s*$|Warning|warn\(" | tail -"${TAIL:-60}" >>"$MD"
  local rc=${PIPESTATUS[0]}
  echo '```' >>"$MD"
  echo "(exit $rc, $(( $(date +%s) - s )) s; $(( $(date +%s) - T0 )) s since start)" >>"$MD"
  echo >>"$MD"
}
