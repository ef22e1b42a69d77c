// Shared human formatting for the `safebind` commands. Formatting lives in lib/cli only.
export { colourWanted, coloursFor, type Colours } from './colour.js';
export { bar, checkLine, count, heading, pad, percent, plural, row, usageColour } from './text.js';
export { causeText, formatDiagnosis } from './diagnosis.js';
export { addressState, formatHostReport } from './host-report.js';
export { formatCheck, formatPreflightReport } from './preflight-report.js';
export { conntrackLine, forecastLine, section, type ForecastFigures } from './forecast.js';
