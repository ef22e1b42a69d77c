// Prints a Diagnosis for a person under pressure. The text itself is lib/diagnose/format.ts (pure,
// shared with watchErrors' stderr report); the CLI hands it its colours.
export { causeText, formatDiagnosis } from '../../diagnose/format.js';
