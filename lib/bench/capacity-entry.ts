// The capacity bench's child entry (dist/bench/capacity-entry.js): what benchCapacity() runs in the
// process that makes the private namespace. The plan comes in SAFEBIND_CAPACITY_PLAN and is checked
// before runCapacity makes the namespace and proves it new and empty; it prints one
// Result<CapacityReport> as JSON on stdout and exits 0 when the run went, 1 when it was refused.
import { capacityChild } from './capacity.js';

void capacityChild();
