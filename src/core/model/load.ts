import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HeatError } from '../errors';
import { defaultOpset, encodeModel, onnx } from './onnx';

/** A decoded ONNX model with the bytes it came from. */
export interface LoadedModel {
  /** Absolute path, or a label such as "<memory>" for models built in code. */
  path: string;
  bytes: Uint8Array;
  proto: onnx.ModelProto;
  /** SHA-256 of the file, lowercase hex; identifies the model in statistics files and results. */
  sha256: string;
  /** Version of the default-domain operator set. */
  opset: number;
}

/**
 * Reads and decodes an ONNX file. Missing, unreadable and corrupt files raise a HeatError naming the file.
 * `fix` is the advice for a file that cannot be read, by default about heat.model.path.
 */
export async function loadModel(file: string, fix = 'Check heat.model.path (relative paths resolve against the workspace folder for .vscode/settings.json, else against the config file\'s folder).'): Promise<LoadedModel> {
  const absolute = path.resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new HeatError(`Cannot read model ${absolute}: ${reason}.`, fix, absolute);
  }
  const loaded = modelFromBytes(bytes, absolute);
  return (await inlineExternalData(loaded.proto, path.dirname(absolute), absolute)) ? { ...loaded, bytes: encodeModel(loaded.proto) } : loaded;
}

/**
 * Copies weights stored in external data files (ONNX's `location`/`offset`/`length` entries, paths relative to
 * the model's folder) into the model, because onnxruntime-node creates sessions from bytes and cannot find
 * such files then. Returns whether anything was inlined. Models over 2 GB cannot be held in one protobuf message.
 */
async function inlineExternalData(proto: onnx.ModelProto, folder: string, label: string): Promise<boolean> {
  const external = (proto.graph?.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  for (const tensor of external) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location') ?? '';
    const file = path.resolve(folder, location);
    if (!location || path.relative(folder, file).startsWith('..')) {
      throw new HeatError(`Model ${label} refers to external data "${location}" outside its folder.`, 'Keep the external data files beside the model.', label);
    }
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (error) {
      throw new HeatError(`Cannot read external data ${file} of model ${label}: ${(error as Error).message}.`, 'Copy the external data files together with the model.', file);
    }
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : data.length - offset;
    if (offset + length > data.length) {
      throw new HeatError(`External data ${file} of model ${label} is shorter than tensor "${tensor.name}" needs.`, 'Copy the external data files completely.', file);
    }
    tensor.rawData = data.subarray(offset, offset + length);
    tensor.externalData = [];
    tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return external.length > 0;
}

/** Decodes model bytes already in memory; `label` names them in errors. */
export function modelFromBytes(bytes: Uint8Array, label = '<memory>'): LoadedModel {
  const proto = decodeModel(bytes, label);
  return { path: label, bytes, proto, sha256: createHash('sha256').update(bytes).digest('hex'), opset: defaultOpset(proto) };
}

function decodeModel(bytes: Uint8Array, label: string): onnx.ModelProto {
  const fix = 'Export the model again (for example with torch.onnx.export) and check that the file was copied completely.';
  let proto: onnx.ModelProto;
  try {
    // protobufjs reads a Buffer with its Buffer reader, which makes each empty bytes field with the deprecated
    // Buffer() constructor, so Node prints a DEP0005 warning. A plain Uint8Array view of the same memory avoids it.
    proto = onnx.ModelProto.decode(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
  } catch (error) {
    throw new HeatError(`Model ${label} is not a valid ONNX file (${(error as Error).message}).`, fix, label);
  }
  // Protobuf decodes many non-ONNX byte strings without complaint; a model needs a graph with nodes and an opset.
  if (!proto.graph || (proto.graph.node ?? []).length === 0 || (proto.opsetImport ?? []).length === 0) {
    throw new HeatError(`Model ${label} is not a valid ONNX file: it has no graph or no operator set.`, fix, label);
  }
  return proto;
}
