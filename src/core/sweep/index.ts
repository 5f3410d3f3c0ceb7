/** Sweeps and ablations: grids, the one-pass sweep runner, host-side combination modes and reports. */
export {
  ABLATION_ALPHAS, ABLATION_KINDS, ablationConfigurations, baseConfiguration, configurationKey, configurationLabel, expandGrid,
  GRID_KEYS, GRID_SETTINGS, settingsSnippet, validateGrid, variedKeys,
  type AblationKind, type GridKey, type SweepConfiguration, type SweepGrid,
} from './grid';
export {
  bestConfiguration, runAblation, runConfigurations, runSweep, sortByAupr, toSweepRow,
  type SweepConfigurationResult, type SweepOptions, type SweepResult,
} from './run';
export { addDominance, combineStandardized, KnownMoments, type ComponentMaps } from './combine';
export { formatBestSnippet, formatSweepTable, sweepCsv, sweepMarkdown, sweepMarkdownTable, writeSweepFiles, type SweepFiles } from './report';
export { SweepSession, uniteHeads, type LayerGroup, type SweepImageRun } from './session';
export { layerStatistics, layerStatisticsPath, statisticsBase, type LayerStatisticsRecord } from './statistics';
