import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, ParseError, printParseErrorCode } from 'jsonc-parser';
import { HeatError } from './errors';

/**
 * Every `heat.*` setting, declared once. The CLI reads these keys from a JSON file or from
 * `.vscode/settings.json`; the extension contributes the same keys to VS Code's settings.
 */
export interface SettingSpec {
  key: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'string|null' | 'array|null';
  default: unknown;
  enum?: readonly string[];
  description: string;
  /** Settings that hold a file path or glob, resolved against the config file's folder. */
  isPath?: boolean;
  minimum?: number;
  maximum?: number;
  /** Element type for arrays. */
  items?: 'number' | 'string' | 'integer';
  /** Allowed values of each element, for arrays of strings. */
  itemEnum?: readonly string[];
  /** Fixed array length, for example 3 for a per-channel mean. */
  length?: number;
  /** Arrays whose elements must differ from each other. */
  uniqueItems?: boolean;
  scope?: 'resource' | 'window' | 'machine';
}

const DATA_SPLITS = ['train', 'val', 'test', 'testShifted'] as const;
export type SplitName = (typeof DATA_SPLITS)[number];
export const SPLIT_NAMES: readonly SplitName[] = DATA_SPLITS;

function splitSettings(split: SplitName): SettingSpec[] {
  return [
    { key: `heat.data.${split}.images`, type: 'string', default: '', isPath: true, scope: 'resource',
      description: `Glob of the ${split} split's images, relative to the workspace folder (for example "data/${split}/images/*.png").` },
    { key: `heat.data.${split}.labels`, type: 'string', default: '', isPath: true, scope: 'resource',
      description: `Label file pattern of the ${split} split; {stem} is the image's file name without extension and {dir} its folder (for example "{dir}/../labels/{stem}.png").` },
  ];
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'heat.model.path', type: 'string', default: '', isPath: true, scope: 'resource', description: 'Path of the ONNX segmentation model.' },
  { key: 'heat.model.featureLayer', type: 'string', default: 'layer3', scope: 'resource',
    description: 'Feature layer for the Mahalanobis distance: an exact tensor name, or a PyTorch module path such as "layer3" or "backbone.layer3" (resolved to the last tensor produced under that scope).' },
  { key: 'heat.model.logitsTensor', type: 'string', default: '', scope: 'resource', description: 'Tensor holding the pre-softmax logits. Empty: the model\'s first output.' },
  { key: 'heat.model.inputLayout', type: 'string', default: 'auto', enum: ['auto', 'NCHW', 'NHWC'], scope: 'resource', description: 'Layout of the model input; "auto" detects it from the shape.' },
  { key: 'heat.model.logitsLayout', type: 'string', default: 'auto', enum: ['auto', 'NCHW', 'NHWC'], scope: 'resource', description: 'Layout of the logits tensor; "auto" detects it from the shape.' },
  { key: 'heat.model.featureLayout', type: 'string', default: 'auto', enum: ['auto', 'NCHW', 'NHWC'], scope: 'resource', description: 'Layout of the feature tensor; "auto" detects it from the shape.' },
  { key: 'heat.model.channelOrder', type: 'string', default: 'RGB', enum: ['RGB', 'BGR'], scope: 'resource', description: 'Channel order the model expects.' },
  { key: 'heat.model.scale', type: 'number', default: 1 / 255, scope: 'resource', description: 'Factor applied to 0..255 pixel values before mean and std: x = (pixel * scale - mean) / std.' },
  { key: 'heat.model.mean', type: 'array', items: 'number', length: 3, default: [0.485, 0.456, 0.406], scope: 'resource', description: 'Per-channel mean subtracted after scaling, in the model\'s channel order.' },
  { key: 'heat.model.std', type: 'array', items: 'number', length: 3, default: [0.229, 0.224, 0.225], scope: 'resource', description: 'Per-channel standard deviation divided after subtracting the mean, in the model\'s channel order.' },
  { key: 'heat.model.inputSize', type: 'array|null', items: 'integer', length: 2, default: null, scope: 'resource',
    description: 'Input size [height, width] images are resized to. null: the model\'s static input size, or the image\'s own size for a dynamic input.' },
  { key: 'heat.model.classNames', type: 'array', items: 'string', default: [], scope: 'resource', description: 'Class names, indexed by class id. Empty: class ids are shown.' },
  { key: 'heat.executionProvider', type: 'string', default: 'auto', enum: ['auto', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu'], scope: 'machine',
    description: 'onnxruntime execution provider. "auto" tries the platform\'s GPU providers and falls back to the CPU. CUDA needs `npm install --onnxruntime-node-install=cuda12` in the extension folder.' },

  { key: 'heat.statistics.path', type: 'string', default: '', isPath: true, scope: 'resource', description: 'Class feature statistics file (.safetensors) made by "heat-lens stats". Empty: Mahalanobis is off.' },
  { key: 'heat.statistics.covariance', type: 'string', default: 'tied', enum: ['tied', 'classwise', 'lowrank'], scope: 'resource', description: 'Covariance used by the Mahalanobis distance.' },
  { key: 'heat.statistics.rank', type: 'integer', default: 256, minimum: 1, scope: 'resource', description: 'Number of eigenvectors kept by the low-rank covariance.' },
  { key: 'heat.statistics.regularization', type: 'number', default: 1e-4, minimum: 0, scope: 'resource', description: 'Epsilon added to the covariance diagonal before inversion.' },
  { key: 'heat.statistics.regularizationMode', type: 'string', default: 'absolute', enum: ['absolute', 'relative'], scope: 'resource', description: '"absolute" adds epsilon·I; "relative" adds epsilon·trace(Σ)/D·I.' },
  { key: 'heat.statistics.purity', type: 'number', default: 1.0, minimum: 0, maximum: 1, scope: 'resource', description: 'Fraction of a feature cell\'s label pixels that must share one class for the cell to enter the statistics.' },
  { key: 'heat.statistics.labelSource', type: 'string', default: 'groundTruth', enum: ['groundTruth', 'prediction'], scope: 'resource', description: 'Labels for the statistics: ground-truth label files, or the model\'s own predictions as pseudo-labels.' },
  { key: 'heat.statistics.minConfidence', type: 'number', default: 0.9, minimum: 0, maximum: 1, scope: 'resource', description: 'With prediction labels, the minimum max-softmax a pixel needs to enter the statistics.' },

  { key: 'heat.labels.ignore', type: 'array', items: 'integer', default: [255], scope: 'resource', description: 'Label values (after offset and map) that are void and never counted.' },
  { key: 'heat.labels.anomaly', type: 'array', items: 'integer', default: [13], scope: 'resource', description: 'Label values (after offset and map) that mark anomaly pixels.' },
  { key: 'heat.labels.offset', type: 'integer', default: 0, scope: 'resource', description: 'Added to every on-disk label value before mapping (StreetHazards stores 1..14 and needs -1).' },
  { key: 'heat.labels.map', type: 'object', default: {}, scope: 'resource', description: 'Label value mapping applied after the offset, as {"from": to}; values not listed stay as they are.' },

  { key: 'heat.data.preset', type: 'string', default: 'generic', enum: ['generic', 'streethazards', 'cityscapes', 'roadanomaly', 'fishyscapes', 'camvid'], scope: 'resource',
    description: 'Dataset convention: file pairing and label values. "generic" uses heat.data.*.labels and heat.labels.* as given.' },
  ...DATA_SPLITS.flatMap(splitSettings),

  { key: 'heat.score.temperature', type: 'number', default: 1, minimum: 1e-6, scope: 'resource', description: 'Temperature T of the energy score E = -T·logsumexp(z/T).' },
  { key: 'heat.score.kernelSize', type: 'integer', default: 3, minimum: 3, scope: 'resource', description: 'Neighbourhood size k (odd, at least 3) of the spatial-consistency score. With k = 1 the neighbourhood is the pixel itself and the score is 0 everywhere.' },
  { key: 'heat.score.spatialMethod', type: 'string', default: 'kl', enum: ['kl', 'variance'], scope: 'resource', description: 'Spatial consistency: KL divergence to the neighbourhood average, or the neighbourhood variance of the softmax.' },
  { key: 'heat.score.padding', type: 'string', default: 'exclude', enum: ['exclude', 'zero'], scope: 'resource', description: '"exclude" averages only cells inside the image; "zero" counts zero padding (reproduces the original PyTorch code and biases borders).' },
  { key: 'heat.score.components', type: 'array', items: 'string', itemEnum: ['energy', 'mahalanobis', 'spatial'], uniqueItems: true, default: ['energy', 'mahalanobis', 'spatial'], scope: 'resource', description: 'Components combined into HEAT (any of "energy", "mahalanobis", "spatial", each at most once).' },
  { key: 'heat.score.combination', type: 'string', default: 'reliability', enum: ['reliability', 'standardized', 'equal'], scope: 'resource',
    description: '"reliability": raw components weighted by reliability weights; "standardized": components z-scored on known validation pixels, then weighted; "equal": z-scored, equal weights.' },
  { key: 'heat.score.normalization', type: 'string', default: 'adaptive', enum: ['adaptive', 'fixed', 'none'], scope: 'resource', description: 'Test-time normalization of the HEAT score.' },
  { key: 'heat.score.alpha', type: 'number', default: 0.9, minimum: 0, maximum: 1, scope: 'resource', description: 'EMA factor of adaptive normalization: state = alpha·state + (1 − alpha)·batch.' },
  { key: 'heat.score.fixedMean', type: 'number', default: 0, scope: 'resource', description: 'Mean subtracted by the "fixed" normalization.' },
  { key: 'heat.score.fixedStd', type: 'number', default: 1, minimum: 0, scope: 'resource', description: 'Standard deviation divided by the "fixed" normalization.' },

  { key: 'heat.eval.maxExactPixels', type: 'integer', default: 10_000_000, minimum: 1, scope: 'resource', description: 'Up to this many pixels metrics are exact; beyond it a 2^20-bin histogram with a stated error bound is used.' },
  { key: 'heat.sweep.grid', type: 'object', default: {}, scope: 'resource', description: 'Sweep grid: each key (temperature, alpha, kernelSize, covariance, featureLayer, spatialMethod, padding, combination, normalization, components) maps to a list of values.' },
  { key: 'heat.ablation.layers', type: 'array', items: 'string', default: [], scope: 'resource', description: 'Feature layers compared by the layer ablation.' },
  { key: 'heat.checklist.files', type: 'string', default: '**/*.md', scope: 'resource', description: 'Glob of checklist Markdown files whose "- [ ]" lines receive checklist diagnostics (node_modules excluded).' },
  { key: 'heat.checklist.showPassed', type: 'boolean', default: true, scope: 'resource', description: 'Show passed checks as Information diagnostics.' },
  { key: 'heat.viewer.colorMap', type: 'string', default: 'viridis', enum: ['viridis', 'inferno', 'turbo', 'gray'], scope: 'window', description: 'Default colour map of the heatmap viewer.' },
];

/** All settings by key, with their resolved values. */
export type HeatConfig = Record<string, unknown> & {
  /** Folder that relative paths were resolved against. */
  readonly baseDir: string;
  /** File the configuration came from, or '' when only defaults are in use. */
  readonly source: string;
  /** The settings file the CLI looked for and did not find, when it fell back to the defaults. */
  readonly missingSettings?: string;
};

const SPEC_BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

export function settingSpec(key: string): SettingSpec | undefined {
  return SPEC_BY_KEY.get(key);
}

/** Reads a typed value. Throws for an unknown key, which is a programming error. */
export function get<T>(config: HeatConfig, key: string): T {
  if (!SPEC_BY_KEY.has(key)) throw new Error(`Unknown setting ${key}`);
  return config[key] as T;
}

function describeAllowed(spec: SettingSpec): string {
  if (spec.enum) return `one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  const range = [spec.minimum !== undefined ? `>= ${spec.minimum}` : '', spec.maximum !== undefined ? `<= ${spec.maximum}` : ''].filter(Boolean).join(' and ');
  // For example "3 numbers" or "strings".
  const items = `${spec.length ? `${spec.length} ` : ''}${spec.items ? `${spec.items}s` : 'values'}`;
  if (spec.itemEnum) return `an array of ${items}, each one of ${spec.itemEnum.map((e) => JSON.stringify(e)).join(', ')}${spec.uniqueItems ? ', without repeats' : ''}`;
  switch (spec.type) {
    case 'array': return `an array of ${items}`;
    case 'array|null': return `null or an array of ${items}`;
    case 'string|null': return 'a string or null';
    case 'integer': return `an integer${range ? ` ${range}` : ''}`;
    case 'number': return `a number${range ? ` ${range}` : ''}`;
    default: return `a ${spec.type}`;
  }
}

function isValid(spec: SettingSpec, value: unknown): boolean {
  if (value === null) return spec.type.endsWith('|null');
  const base = spec.type.replace('|null', '');
  switch (base) {
    case 'string':
      return typeof value === 'string' && (!spec.enum || spec.enum.includes(value));
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (base === 'integer' && !Number.isInteger(value)) return false;
      if (spec.minimum !== undefined && value < spec.minimum) return false;
      if (spec.maximum !== undefined && value > spec.maximum) return false;
      return true;
    }
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    case 'array': {
      if (!Array.isArray(value)) return false;
      if (spec.length !== undefined && value.length !== spec.length) return false;
      if (spec.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) return false;
      return value.every((v) => {
        if (spec.items === 'string') return typeof v === 'string' && (!spec.itemEnum || spec.itemEnum.includes(v));
        if (spec.items === 'integer') return Number.isInteger(v);
        if (spec.items === 'number') return typeof v === 'number' && Number.isFinite(v);
        return true;
      });
    }
    default:
      return false;
  }
}

function resolvePathValue(baseDir: string, value: string): string {
  // A label pattern that starts at the image's own folder must keep "{dir}/.." intact (path.join would fold it).
  if (value === '' || path.isAbsolute(value) || value.startsWith('{dir}')) return value;
  return path.join(baseDir, value);
}

/**
 * Builds a configuration from raw `heat.*` keys: validates each value against its spec, fills defaults,
 * and resolves relative paths against `baseDir`. Unknown `heat.*` keys are rejected with the nearest
 * known key; keys outside `heat.` are ignored, since settings.json holds other extensions' keys too.
 */
export function makeConfig(raw: Record<string, unknown>, baseDir: string, source = ''): HeatConfig {
  const config: Record<string, unknown> = { baseDir, source };
  for (const spec of SETTINGS) config[spec.key] = structuredClone(spec.default);

  // Every problem of the file is collected, so that one run reports all of them.
  const problems: { message: string; fix: string; key: string }[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith('heat.')) continue;
    const spec = SPEC_BY_KEY.get(key);
    if (!spec) {
      problems.push({ message: `Unknown setting ${key}`, fix: `Did you mean ${nearestKey(key)}?`, key });
    } else if (!isValid(spec, value)) {
      problems.push({ message: `Invalid value ${JSON.stringify(value)} for ${key}`, fix: `Expected ${describeAllowed(spec)}.${itemHint(spec, value)}`, key });
    } else {
      config[key] = spec.isPath && typeof value === 'string' ? resolvePathValue(baseDir, value) : value;
    }
  }
  const kernel = config['heat.score.kernelSize'] as number;
  if (kernel % 2 !== 1) problems.push({ message: `Invalid value ${kernel} for heat.score.kernelSize`, fix: 'Expected an odd integer such as 3 or 5.', key: 'heat.score.kernelSize' });

  const where = source ? ` in ${source}` : '';
  if (problems.length === 1) throw new HeatError(`${problems[0].message}${where}.`, problems[0].fix, problems[0].key);
  if (problems.length > 1) {
    throw new HeatError(`${problems.length} problems with the settings${where}: ${problems.map((p) => `${p.message} (${p.fix})`).join('; ')}.`,
      'Fix each of them and run again.', problems[0].key);
  }
  return config as HeatConfig;
}

/** Returns a copy of `config` with some keys replaced, validated as in makeConfig. */
export function withOverrides(config: HeatConfig, overrides: Record<string, unknown>): HeatConfig {
  const merged: Record<string, unknown> = {};
  for (const spec of SETTINGS) merged[spec.key] = config[spec.key];
  const checked = makeConfig(overrides, config.baseDir, config.source);
  for (const key of Object.keys(overrides)) merged[key] = checked[key];
  return { ...merged, baseDir: config.baseDir, source: config.source, missingSettings: config.missingSettings } as HeatConfig;
}

/** Returns a sentence naming an array element outside spec.itemEnum and the closest allowed value ('' when none). */
function itemHint(spec: SettingSpec, value: unknown): string {
  if (!spec.itemEnum || !Array.isArray(value)) return '';
  const wrong = value.find((v) => typeof v === 'string' && !spec.itemEnum!.includes(v)) as string | undefined;
  if (wrong === undefined) return '';
  const closest = [...spec.itemEnum].sort((a, b) => editDistance(wrong, a) - editDistance(wrong, b))[0];
  return ` ${JSON.stringify(wrong)} is not one of them; did you mean ${JSON.stringify(closest)}?`;
}

/**
 * Returns the dotted keys under `prefix` in a nested settings object (as VS Code's getConfiguration('heat')
 * returns it) that no setting defines. The values of known keys, objects included, are not entered.
 */
export function unknownSettingKeys(section: Record<string, unknown>, prefix = 'heat'): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(section)) {
    const key = `${prefix}.${name}`;
    if (SPEC_BY_KEY.has(key)) continue;
    const isSection = typeof value === 'object' && value !== null && !Array.isArray(value) && SETTINGS.some((spec) => spec.key.startsWith(`${key}.`));
    if (isSection) found.push(...unknownSettingKeys(value as Record<string, unknown>, key));
    else found.push(key);
  }
  return found;
}

function nearestKey(key: string): string {
  let best = SETTINGS[0].key;
  let bestDistance = Infinity;
  for (const spec of SETTINGS) {
    const d = editDistance(key, spec.key);
    if (d < bestDistance) { bestDistance = d; best = spec.key; }
  }
  return best;
}

/** Levenshtein distance; used to suggest the closest known name. */
export function editDistance(a: string, b: string): number {
  const previous = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

/**
 * Loads the configuration the CLI uses: `configPath` when given, else `.vscode/settings.json` under `cwd`,
 * else defaults only. Settings files may contain comments and trailing commas, as VS Code allows. Relative
 * paths resolve against the folder containing the file; for `.vscode/settings.json` that is the workspace
 * folder, as in VS Code.
 */
export async function loadConfig(configPath: string | undefined, cwd = process.cwd()): Promise<HeatConfig> {
  let file = configPath ? path.resolve(cwd, configPath) : path.join(cwd, '.vscode', 'settings.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (configPath && (error as NodeJS.ErrnoException).code === 'EISDIR') {
      const inside = path.join(file, '.vscode', 'settings.json');
      throw new HeatError(`--config ${file} is a folder, not a settings file.`, `Pass the file itself, for example --config ${inside}, or run from that folder without --config.`, file);
    }
    if (configPath) throw new HeatError(`Cannot read config file ${file}: ${(error as Error).message}.`, 'Check the path given to --config.', file);
    return { ...makeConfig({}, cwd), missingSettings: file };
  }

  const errors: ParseError[] = [];
  const raw = parseJsonc(text, errors, { allowTrailingComma: true });
  if (errors.length > 0) {
    const first = errors[0];
    const before = text.slice(0, first.offset).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    throw new HeatError(`Invalid JSON in ${file} at ${where}: ${printParseErrorCode(first.error)}.`, 'Fix the syntax error and run again.', file);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HeatError(`Config file ${file} must contain a JSON object of "heat.*" keys.`, undefined, file);
  }

  const dir = path.dirname(file);
  const baseDir = path.basename(dir) === '.vscode' ? path.dirname(dir) : dir;
  file = path.resolve(file);
  return makeConfig(raw as Record<string, unknown>, baseDir, file);
}
