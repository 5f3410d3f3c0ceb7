import type { TensorInfo } from '../../core/api';
import { detectInputLayout, detectTensorLayout, loadModel, listTensors } from '../../core/model';
import { parseArgs } from '../args';
import type { Command } from '../context';

function formatShape(shape: TensorInfo['shape']): string {
  return shape ? `[${shape.join(', ')}]` : '?';
}

function tensorLine(t: TensorInfo): string {
  const shape = `${formatShape(t.shape)}${t.measured ? '*' : ''}`;
  return `  ${t.name}  ${t.op || '-'}  ${shape}  ${t.dtype}`;
}

/** Describes the detected layout of each rank-4 input and output, the defaults heat.model.*Layout override. */
function layoutLines(inputs: TensorInfo[], outputs: TensorInfo[]): string[] {
  const lines: string[] = [];
  for (const input of inputs) {
    if (input.shape?.length !== 4) continue;
    const decision = detectInputLayout(input.shape);
    lines.push(`Layout of input ${input.name}: ${decision.layout} (${decision.reason}); override with heat.model.inputLayout.`);
  }
  for (const output of outputs) {
    if (output.shape?.length !== 4) continue;
    const decision = detectTensorLayout(output.shape);
    lines.push(`Layout of output ${output.name}: ${decision.layout} (${decision.reason}); override with heat.model.logitsLayout if it is the logits, heat.model.featureLayout if it is a feature layer.`);
  }
  return lines;
}

/** `heat-lens inspect MODEL.onnx [--json]`: every input, output and intermediate tensor with producer and shape. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'List a model\'s inputs, outputs and intermediate tensors with shapes',
  usage: [
    'Usage: heat-lens inspect MODEL.onnx [--json]',
    '',
    'Lists inputs, outputs and every intermediate tensor with its producing op, shape and dtype. Shapes the',
    'graph does not declare are measured by running the model on a zero input and marked with *. Warns when an',
    'output contains probabilities instead of logits and names the pre-softmax tensors.',
    '',
    '  --json   print the listing as JSON',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, [], ['json']);
    if (args.positional.length !== 1) {
      context.log.error('inspect needs exactly one model file: heat-lens inspect MODEL.onnx');
      return 2;
    }
    const model = await loadModel(args.positional[0], 'Check the model path given to heat-lens inspect.');
    const inspection = await listTensors(model, { log: context.log });
    if (args.options.has('json')) {
      context.print(JSON.stringify(inspection, null, 2));
      return 0;
    }

    context.print(`Model ${inspection.path}`);
    context.print(`  opset ${inspection.opsetVersion}, sha256 ${inspection.sha256}`);
    for (const [title, list] of [['Inputs', inspection.inputs], ['Outputs', inspection.outputs], ['Intermediates', inspection.intermediates]] as const) {
      context.print(`${title} (${list.length}): name  op  shape  dtype`);
      for (const tensor of list) context.print(tensorLine(tensor));
    }
    if ([...inspection.outputs, ...inspection.intermediates].some((t) => t.measured)) {
      context.print('* shape measured on a zero input of the size shown under Inputs, with dynamic sizes set to 1 for the batch and 256 otherwise.');
    }
    for (const line of layoutLines(inspection.inputs, inspection.outputs)) context.print(line);
    const maps = inspection.outputs.filter((o) => o.shape?.length === 4);
    if (maps.length > 1) {
      context.print(`The model has ${maps.length} rank-4 outputs (${maps.map((o) => o.name).join(', ')}), for example one per task. HEAT scores one: `
        + `set heat.model.logitsTensor to its name (default: the first output, ${inspection.outputs[0].name}).`);
    }
    for (const warning of inspection.warnings) context.log.warn(warning);
    return 0;
  },
};
