// The rehearsal child's own entry (dist/bench/rehearse-entry.js): what rehearseChurn() runs in the
// process that makes the private namespace. It takes no arguments: the plan comes in
// SAFEBIND_CHURN_REHEARSAL and is checked (parseRehearsalPlan) before runRehearsal makes the
// namespace and proves it is a new, empty one; only then are sysctls written. It prints one
// Result<ChurnReport> as JSON on stdout and exits 0 when the run went, 1 when it was refused.
import { rehearsalChild } from './rehearse-child.js';

void rehearsalChild();
