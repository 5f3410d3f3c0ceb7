import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HeatError } from '../errors';
import { defaultOpset, onnx } from './onnx';

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

/** Reads and decodes an ONNX file. Missing, unreadable and corrupt files raise a HeatError naming the file. */
export async function loadModel(file: string): Promise<LoadedModel> {
  const absolute = path.resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new HeatError(`Cannot read model ${absolute}: ${reason}.`, 'Check heat.model.path (relative paths resolve against the config file\'s folder).', absolute);
  }
  return modelFromBytes(bytes, absolute);
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
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new HeatError(`Model ${label} is not a valid ONNX file (${(error as Error).message}).`, fix, label);
  }
  // Protobuf decodes many non-ONNX byte strings without complaint; a model needs a graph with nodes and an opset.
  if (!proto.graph || (proto.graph.node ?? []).length === 0 || (proto.opsetImport ?? []).length === 0) {
    throw new HeatError(`Model ${label} is not a valid ONNX file: it has no graph or no operator set.`, fix, label);
  }
  return proto;
}
