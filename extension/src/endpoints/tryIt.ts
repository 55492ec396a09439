import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import type { Disposer } from '../util/disposable';
import { ask, registerCommand } from '../vscode/commands';
import type { EndpointNode, EndpointView } from './model';
import { pickEndpoint } from './commands';

const SCHEME = 'mlops-response';

/** A one-row request in MLflow's `dataframe_split` shape, built from the serving version's input features. */
export function sampleRequest(ep: Pick<EndpointView, 'variants'>): { dataframe_split: { columns: string[]; data: number[][] } } {
  const v = ep.variants.find((x) => x.role === 'stable') ?? ep.variants[0];
  const columns = v?.features ?? [];
  return { dataframe_split: { columns, data: [columns.map(() => 0)] } };
}

export const invocationsUrl = (baseUrl: string, endpoint: string): string => `${baseUrl.replace(/\/+$/, '')}/endpoints/${encodeURIComponent(endpoint)}/invocations`;

/** A curl line to paste into a shell: the token stays a placeholder (`$MLOPS_TOKEN`), the body in single quotes. */
export function curlCommand(baseUrl: string, endpoint: string, body: unknown): string {
  const json = JSON.stringify(body).replace(/'/g, `'\\''`);
  return `curl -sS -X POST '${invocationsUrl(baseUrl, endpoint)}' -H "Authorization: Bearer $MLOPS_TOKEN" -H 'Content-Type: application/json' -d '${json}'`;
}

/** Send Test Request (the answer in a read-only document) and Copy curl, for an endpoint item or from the palette. */
export function registerTryIt(d: Disposer, client: () => Promise<ApiClient>): void {
  const responses = new Map<string, string>();
  d.track(vscode.workspace.registerTextDocumentContentProvider(SCHEME, { provideTextDocumentContent: (uri) => responses.get(uri.query) ?? '' }));
  const endpointOf = async (c: ApiClient, node: EndpointNode | undefined, placeHolder: string): Promise<EndpointView> => {
    const name = await pickEndpoint(c, node, placeHolder);
    const ep = (await api.endpoints(c)).find((e) => e.name === name);
    if (!ep) throw new Error(`Endpoint ${name} no longer exists.`);
    return ep;
  };
  registerCommand(d, 'mlops.sendTestRequest', async (node?: EndpointNode) => {
    const c = await client();
    const ep = await endpointOf(c, node, 'Endpoint to send a test request to');
    const text = await ask({
      prompt: `Request body for ${ep.name} (one row of its input features; edit the values)`,
      value: JSON.stringify(sampleRequest(ep)),
      validateInput: (v) => {
        try {
          JSON.parse(v);
          return null;
        } catch (e) {
          return `Not JSON: ${(e as Error).message}`;
        }
      },
    });
    const body: unknown = JSON.parse(text);
    const started = Date.now();
    let status: string;
    let answer: unknown;
    try {
      answer = await c.post(`/endpoints/${api.enc(ep.name)}/invocations`, body);
      status = '200 OK';
    } catch (e) {
      const err = e as { status?: number; code?: string; message?: string };
      status = `${err.status ?? 'error'} ${err.code ?? ''}`.trim();
      answer = { error_code: err.code, message: err.message };
    }
    const ms = Date.now() - started;
    const key = `${ep.name}-${started}`;
    responses.set(key, [
      `# Test request to ${ep.name}`,
      '',
      `POST ${invocationsUrl(c.endpoint.url, ep.name)} → **${status}** in ${ms} ms`,
      '',
      '## Request',
      '',
      '```json',
      JSON.stringify(body, null, 2),
      '```',
      '',
      '## Response',
      '',
      '```json',
      JSON.stringify(answer, null, 2),
      '```',
      '',
    ].join('\n'));
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: SCHEME, path: `/${ep.name}-response.md`, query: key }));
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: true });
  });
  registerCommand(d, 'mlops.copyCurl', async (node?: EndpointNode) => {
    const c = await client();
    const ep = await endpointOf(c, node, 'Endpoint whose curl command to copy');
    await vscode.env.clipboard.writeText(curlCommand(c.endpoint.url, ep.name, sampleRequest(ep)));
    void vscode.window.showInformationMessage(`MLOps: Copied a curl command for ${ep.name} (set MLOPS_TOKEN to the backend's token first).`);
  });
}
