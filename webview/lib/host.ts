/** The webview side of postMessage, typed by the protocol of each webview. */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function connect<In extends { type: string }, Out>(onMessage: (message: In) => void): { post(message: Out): void; state: VsCodeApi } {
  window.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as In;
    if (data && typeof data.type === 'string') onMessage(data);
  });
  return { post: (message: Out) => api.postMessage(message), state: api };
}

/** Creates an element with attributes and children; text children are escaped by the DOM. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Record<string, string | number | boolean | undefined>, ...children: (Node | string | undefined)[]): HTMLElementTagNameMap[K];
export function h(tag: string, attributes?: Record<string, string | number | boolean | undefined>, ...children: (Node | string | undefined)[]): HTMLElement;
export function h(tag: string, attributes: Record<string, string | number | boolean | undefined> = {}, ...children: (Node | string | undefined)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined) element.append(child);
  return element;
}

/** Puts RGBA pixels on a canvas at native resolution. */
export function paint(canvas: HTMLCanvasElement, rgba: Uint8Array, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  const pixels = new Uint8ClampedArray(rgba.length);
  pixels.set(rgba);
  const image = new ImageData(pixels, width, height);
  context.putImageData(image, 0, 0);
}
