/**
 * Messages between the extension host and its webviews (viewer, side view, sweep, report), one union per
 * direction and per webview. Maps travel as PackedArray (ArrayBuffers), see maps.ts.
 */
import type { CheckResult, MapName, MethodMetrics, SweepRow } from '../core/api';
import type { PackedArray } from './maps';

import type { ColorMapName } from '../core/render/colormap';

export type { ColorMapName };

/** Location of a check result in the workspace, so that the viewer can link to it. */
export type CheckLink =
  | { kind: 'setting'; key: string; file: string; line: number }
  | { kind: 'checklist'; file: string; line: number; text: string };

/** A check result with the places it was put on as a diagnostic. */
export interface PlacedCheck extends CheckResult {
  links: CheckLink[];
}

/** Everything the viewer shows for one scored image. */
export interface ViewerImage {
  image: string;
  width: number;
  height: number;
  classCount: number;
  classNames: string[];
  executionProvider: string;
  notes: string[];
  maps: Partial<Record<MapName, PackedArray>>;
  /** Argmax class per pixel. */
  prediction: PackedArray;
  /** RGBA pixels of the input at map resolution. */
  imageRgba: PackedArray;
  /** 1 anomaly, 0 known, 255 ignore; absent when the image is in no configured split. */
  groundTruth?: PackedArray;
}

/** Validation thresholds of the workspace's latest evaluation, by map, and a label for that evaluation. */
export interface ViewerThresholds {
  values: Partial<Record<MapName, number>>;
  from: string;
}

/** Host → viewer. */
export type HostToViewer =
  /** A newly scored image; replaces the one shown. */
  | { type: 'show'; image: ViewerImage; colorMap: ColorMapName; batch: { images: string[]; index: number }; thresholds?: ViewerThresholds }
  /** Checklist results that concern the shown image and the current configuration. */
  | { type: 'checks'; checks: PlacedCheck[] }
  /** Reply to `probe`: the top classes at one pixel. */
  | { type: 'probed'; seq: number; x: number; y: number; top: { classId: number; name: string; probability: number }[] }
  /** Reply to `export`. */
  | { type: 'exported'; folder: string; files: number };

/** Viewer → host. */
export type ViewerToHost =
  | { type: 'ready' }
  /** Asks for the class probabilities at pixel (x, y); kept on the host to spare sending C maps. */
  | { type: 'probe'; seq: number; x: number; y: number }
  /** PNG files rendered by the viewer, to be written to a folder the user picks. */
  | { type: 'export'; files: { name: string; png: ArrayBuffer }[] }
  /** Opens the setting or checklist line a result is placed on. */
  | { type: 'openLink'; link: CheckLink }
  | { type: 'runChecklist' }
  /** Shows image `index` of the last scored batch. */
  | { type: 'selectImage'; index: number };

/** Summary of the latest scored image for the side view. */
export interface SidebarSummary {
  image: string;
  width: number;
  height: number;
  heat: PackedArray;
  /** Mean weight of each component, summing to about 1. */
  weightMeans: { energy: number; mahalanobis: number; spatial: number };
  numbers: { label: string; value: string }[];
  colorMap: ColorMapName;
}

/** Host → side view. */
export type HostToSidebar =
  | { type: 'latest'; summary: SidebarSummary }
  | { type: 'empty'; reason: string };

/** Side view → host. */
export type SidebarToHost = { type: 'ready' } | { type: 'openViewer' } | { type: 'scoreImage' };

/** Host → sweep panel. */
export type HostToSweep =
  | { type: 'started'; title: string; keys: string[] }
  | { type: 'row'; row: SweepRow }
  | { type: 'finished'; error?: string; split?: string; images?: number };

/** Sweep panel → host. */
export type SweepToHost = { type: 'ready' } | { type: 'apply'; config: Record<string, unknown> };

/** One plot of an evaluation report, as SVG text rendered through an <img> (scripts in it never run). */
export interface ReportPlot {
  name: string;
  svg: string;
}

/** Host → report panel. */
export type HostToReport = { type: 'report'; title: string; folder: string; methods: MethodMetrics[]; plots: ReportPlot[]; notes: string[] };

/** Report panel → host. */
export type ReportToHost = { type: 'ready' } | { type: 'openFolder' };
