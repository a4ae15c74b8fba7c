/**
 * The ad workflow as recorded nodes (prompt -> txt2img | img2img -> layout -> export), run the same way by the
 * browser worker and the server's render worker. Platform-free.
 */
export { WorkflowError, WorkflowRunner, nodesOf, type NodeDetail, type NodeRecord, type NodeResult, type NodeStatus, type RunnerOptions } from './runner.ts';
export {
  AD_WORKFLOW_NODES,
  exportNode,
  generationNode,
  hasCopyText,
  layoutNode,
  promptNode,
  runAdWorkflow,
  type AdWorkflowDeps,
  type AdWorkflowNode,
  type AdWorkflowOptions,
  type AdWorkflowResult,
  type GeneratedPixels,
} from './adWorkflow.ts';
